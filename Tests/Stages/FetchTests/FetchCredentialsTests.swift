import Foundation
import NIOHTTP1
import RunnelProtocol
import Testing

@testable import FetchStage

/// A URL with a user part (`https://user:secret@host/`): its credentials go to that origin as
/// Basic auth and nowhere else, not into the page, the errors, or a redirect to another host.
@Suite struct FetchCredentialsTests {
    static let page = Fixtures.ascii("<html><body><p>Phái bộ</p></body></html>")

    @Test("credentials in the URL are sent as Basic auth, and the page's url and final_url leave them out")
    func basicAuth() async throws {
        try await withServer(["/private.html": html(Self.page)]) { server, stage in
            let page = try await stage.fetch("http://reader:s%40cret@127.0.0.1:\(server.port)/private.html")
            let sent = try #require(server.headers("/private.html"))
            let expected = "Basic " + Data("reader:s@cret".utf8).base64EncodedString()
            #expect(sent.first(name: "authorization") == expected)
            #expect(page.url == server.url("/private.html"))
            #expect(page.finalURL == server.url("/private.html"))
            #expect(!"\(page)".contains("cret"))
        }
    }

    @Test("an error names the URL without its credentials")
    func errorsHideThem() async throws {
        try await withServer([:]) { server, stage in
            let error = try #require(await failure(of: stage, "http://reader:hunter2@127.0.0.1:\(server.port)/gone.html"))
            #expect(error.code == .notFound)
            #expect(error.message.contains(server.url("/gone.html")), "\(error.message)")
            #expect(!error.message.contains("hunter2") && !error.message.contains("reader"), "\(error.message)")
        }
        let stage = FetchStage(configuration: testConfiguration())
        defer { Task { await stage.shutdown() } }
        for url in ["gopher://reader:hunter2@example.org/", "http://reader:hunter2@[::1/"] {
            let error = try #require(await failure(of: stage, url))
            #expect(error.code == .invalidArgument)
            #expect(!error.message.contains("hunter2"), "\(error.message)")
        }
    }

    @Test("a redirect to another origin does not carry the credentials; one to the same origin does")
    func redirectsToOtherHostsGetNone() async throws {
        let other = try await TestHTTPServer.start(routes: ["/landing.html": html(Self.page)])
        defer { Task { try? await other.stop() } }
        try await withServer([
            "/here": .respond(status: .found, headers: [("Location", "/there")], body: []),
            "/there": .respond(status: .found, headers: [("Location", other.url("/landing.html"))], body: []),
        ]) { server, stage in
            let page = try await stage.fetch("http://reader:hunter2@127.0.0.1:\(server.port)/here")
            #expect(page.status == 200)
            #expect(server.headers("/there")?.first(name: "authorization") != nil, "same origin: sent")
            #expect(other.headers("/landing.html")?.first(name: "authorization") == nil, "another port is another origin")
            #expect(!"\(page)".contains("hunter2"))
        }
    }
}
