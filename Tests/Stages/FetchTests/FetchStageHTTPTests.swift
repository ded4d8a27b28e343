import Foundation
import NIOHTTP1
import RunnelProtocol
import Testing

#if canImport(Glibc)
import Glibc
#endif

@testable import FetchStage

/// The fetch stage against a real HTTP server on loopback: one test per case, each asserting the
/// outcome (the `page.fetched` fields or the error's status).
@Suite struct FetchStageHTTPTests {
    static let plainPage = Fixtures.ascii("<html><head><title>Xin chào</title></head><body>Phái bộ</body></html>")

    @Test func plainPage() async throws {
        try await withServer(["/plain.html": html(Self.plainPage)]) { server, stage in
            let page = try await stage.fetch(server.url("/plain.html"))
            #expect(page.status == 200)
            #expect(page.url == server.url("/plain.html"))
            #expect(page.finalURL == server.url("/plain.html"))
            #expect(page.contentType == "text/html")
            #expect(page.charset == "utf-8")
            #expect(page.html.contains("Phái bộ"))
            #expect(page.redirects == [])
            #expect(page.headers?["content-type"] == "text/html; charset=utf-8")
            #expect(page.fetchedAt != nil && page.elapsedMs != nil)
            let sent = try #require(server.headers("/plain.html"))
            #expect(sent.first(name: "accept-encoding") == "gzip, deflate")
            #expect(sent.first(name: "user-agent") == FetchConfiguration.defaultUserAgent)
        }
    }

    @Test func gzipAndDeflateBodiesAreDecompressed() async throws {
        let body = Fixtures.ascii("<html><body>") + Array("Tin bài liên quan".utf8) + Fixtures.ascii("</body></html>")
        try await withServer([
            "/gzip.html": html(Compression.gzip(body), extra: [("Content-Encoding", "gzip")]),
            "/deflate.html": html(Compression.zlib(body), extra: [("Content-Encoding", "deflate")]),
        ]) { server, stage in
            for path in ["/gzip.html", "/deflate.html"] {
                let page = try await stage.fetch(server.url(path))
                #expect(page.html == "<html><body>Tin bài liên quan</body></html>", "\(path)")
                #expect(page.charset == "utf-8")
            }
        }
    }

    @Test func corruptGzipIsDataLoss() async throws {
        try await withServer([
            "/broken.html": html([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF, 0xDE, 0xAD, 0xBE, 0xEF], extra: [("Content-Encoding", "gzip")])
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/broken.html"))
            #expect(error?.code == .dataLoss)
        }
    }

    @Test func redirectsAreFollowedAndRecorded() async throws {
        try await withServer([
            "/old": .respond(status: .movedPermanently, headers: [("Location", "/middle")], body: []),
            "/middle": .respond(status: .found, headers: [("Location", "/plain.html")], body: []),
            "/plain.html": html(Self.plainPage),
        ]) { server, stage in
            let page = try await stage.fetch(server.url("/old"))
            #expect(page.url == server.url("/old"))
            #expect(page.finalURL == server.url("/plain.html"))
            #expect(page.redirects == [server.url("/middle"), server.url("/plain.html")])
            #expect(page.html.contains("Phái bộ"))
        }
    }

    @Test func redirectLoopFails() async throws {
        try await withServer([
            "/loop-a": .respond(status: .found, headers: [("Location", "/loop-b")], body: []),
            "/loop-b": .respond(status: .found, headers: [("Location", "/loop-a")], body: []),
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/loop-a"))
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("redirect loop") == true)
            #expect(server.requests("/loop-a") == 1 && server.requests("/loop-b") == 1)
        }
    }

    @Test func tooManyRedirectsFail() async throws {
        var routes: [String: TestHTTPServer.Route] = [:]
        for i in 0..<10 { routes["/r\(i)"] = .respond(status: .found, headers: [("Location", "/r\(i + 1)")], body: []) }
        try await withServer(routes) { server, stage in
            let error = await failure(of: stage, server.url("/r0"))
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("more than 5 redirects") == true)
        }
    }

    @Test func tooManyRequestsHonoursRetryAfter() async throws {
        try await withServer([
            "/limited": .sequence(
                first: .respond(status: .tooManyRequests, headers: [("Retry-After", "1")], body: []),
                then: html(Self.plainPage))
        ]) { server, stage in
            let start = ContinuousClock.now
            let page = try await stage.fetch(server.url("/limited"))
            let waited = start.duration(to: .now)
            #expect(page.status == 200)
            #expect(server.requests("/limited") == 2)
            #expect(waited >= .milliseconds(950), "waited \(waited), Retry-After said 1 s")
        }
    }

    @Test func tooManyRequestsAfterRetriesIsResourceExhausted() async throws {
        try await withServer([
            "/always-429": .respond(status: .tooManyRequests, headers: [], body: [])
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/always-429"))
            #expect(error?.code == .resourceExhausted)
            #expect(error?.code.isRetryable == true)
            #expect(server.requests("/always-429") == 2)  // the first try and one retry
        }
    }

    @Test func serviceUnavailableAfterRetriesIsUnavailable() async throws {
        try await withServer([
            "/down": .respond(status: .serviceUnavailable, headers: [("Retry-After", "0")], body: [])
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/down"))
            #expect(error?.code == .unavailable)
            #expect(server.requests("/down") == 2)
        }
    }

    @Test func retryAfterBeyondTheDeadlineFailsAtOnce() async throws {
        try await withServer([
            "/later": .respond(status: .serviceUnavailable, headers: [("Retry-After", "30")], body: [])
        ], configure: { $0.maxRetryAfterMs = 60_000 }) { server, stage in
            // Waiting out Retry-After would take 30 s; failing at once takes well under 10 even
            // on a loaded machine.
            let start = ContinuousClock.now
            let error = await failure(of: stage, server.url("/later"), deadlineMs: 500)
            #expect(error?.code == .deadlineExceeded)
            #expect(start.duration(to: .now) < .seconds(10))
        }
    }

    @Test func stalledBodyIsAReadTimeout() async throws {
        try await withServer([
            "/stall.html": .stall(declaredLength: 10_000, sent: Fixtures.ascii("<html><body>"))
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/stall.html"))
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("read timeout") == true)
            #expect(server.requests("/stall.html") == 2)
        }
    }

    @Test func messageDeadlineCutsAStalledBody() async throws {
        try await withServer(
            ["/stall.html": .stall(declaredLength: 10_000, sent: Fixtures.ascii("<html>"))],
            configure: { $0.readTimeoutMs = 30_000 }
        ) { server, stage in
            // The read timeout would cut it after 30 s; the 250 ms deadline well under 10.
            let start = ContinuousClock.now
            let error = await failure(of: stage, server.url("/stall.html"), deadlineMs: 250)
            #expect(error?.code == .deadlineExceeded)
            #expect(error?.message.contains("deadline_ms") == true)
            #expect(start.duration(to: .now) < .seconds(10))
        }
    }

    @Test func hugeBodyIsOutOfRange() async throws {
        try await withServer([
            "/huge.html": .stream(count: 3 << 20, contentType: "text/html"),
            "/declared.html": html([UInt8](repeating: 0x61, count: (1 << 20) + 1)),
            "/huge.gz.html": html(
                Compression.gzip([UInt8](repeating: 0x61, count: 3 << 19)), extra: [("Content-Encoding", "gzip")]),
        ]) { server, stage in
            for path in ["/huge.html", "/declared.html", "/huge.gz.html"] {
                let error = await failure(of: stage, server.url(path))
                #expect(error?.code == .outOfRange, "\(path)")
                #expect(error?.code.isRetryable == false)
                #expect(error?.message.contains("--max-bytes") == true)
            }
        }
    }

    @Test func windows1258PageWithoutCharsetIsDetectedAndComposed() async throws {
        try await withServer([
            "/vi.html": html(Fixtures.page(Fixtures.vietnameseWindows1258), contentType: "text/html")
        ]) { server, stage in
            let page = try await stage.fetch(server.url("/vi.html"))
            #expect(page.charset == "windows-1258")
            #expect(page.html.contains(Fixtures.vietnameseText))
            // NFC: no combining tone marks are left over.
            #expect(!page.html.unicodeScalars.contains { (0x0300...0x0323).contains($0.value) })
        }
    }

    @Test func windows1252PageWithoutCharsetIsDetected() async throws {
        try await withServer([
            "/fr.html": html(Fixtures.page(Fixtures.frenchWindows1252), contentType: "text/html")
        ]) { server, stage in
            let page = try await stage.fetch(server.url("/fr.html"))
            #expect(page.charset == "windows-1252")
            #expect(page.html.contains(Fixtures.frenchText))
        }
    }

    @Test func metaCharsetIsUsed() async throws {
        let body = Fixtures.page(
            Fixtures.vietnameseWindows1258,
            meta: "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">")
        try await withServer(["/meta.html": html(body, contentType: "text/html")]) { server, stage in
            let page = try await stage.fetch(server.url("/meta.html"))
            #expect(page.charset == "windows-1258")
            #expect(page.html.contains(Fixtures.vietnameseText))
        }
    }

    @Test func bytesInvalidInTheDeclaredCharsetAreDataLoss() async throws {
        try await withServer([
            "/bad.html": html(Fixtures.page(Fixtures.vietnameseWindows1258), contentType: "text/html; charset=utf-8")
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/bad.html"))
            #expect(error?.code == .dataLoss)
            #expect(error?.message.contains("utf-8") == true)
        }
    }

    @Test func robotsTxtIsObeyedAndCached() async throws {
        try await withServer([
            "/robots.txt": .respond(
                status: .ok, headers: [("Content-Type", "text/plain")],
                body: Fixtures.ascii("User-agent: *\nDisallow: /private/\n")),
            "/private/page.html": html(Self.plainPage),
            "/plain.html": html(Self.plainPage),
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/private/page.html"))
            #expect(error?.code == .permissionDenied)
            #expect(error?.message.contains("robots.txt") == true)
            #expect(error?.message.contains("--ignore-robots") == true)
            #expect(server.requests("/private/page.html") == 0)
            _ = try await stage.fetch(server.url("/plain.html"))
            #expect(server.requests("/robots.txt") == 1)
        }
    }

    @Test func ignoreRobotsSkipsRobotsTxt() async throws {
        try await withServer(
            [
                "/robots.txt": .respond(status: .ok, headers: [], body: Fixtures.ascii("User-agent: *\nDisallow: /\n")),
                "/plain.html": html(Self.plainPage),
            ],
            configure: { $0.ignoreRobots = true }
        ) { server, stage in
            _ = try await stage.fetch(server.url("/plain.html"))
            #expect(server.requests("/robots.txt") == 0)
        }
    }

    @Test func unreadableRobotsTxtIsUnavailable() async throws {
        try await withServer([
            "/robots.txt": .respond(status: .internalServerError, headers: [], body: []),
            "/plain.html": html(Self.plainPage),
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/plain.html"))
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("robots.txt") == true)
            #expect(error?.message.contains("500") == true, "the server's answer is named")
            #expect(error?.message.contains("--ignore-robots") == true, "the server answered: fetching without it may help")
            #expect(server.requests("/plain.html") == 0)
        }
    }

    @Test func aServerThatCannotBeReachedIsNotBlamedOnRobotsTxt() async throws {
        // A socket bound and not listening: the port is held, and connections to it are refused.
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(held >= 0)
        defer { close(held) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(held, $0, length) == 0 && getsockname(held, $0, &length) == 0 }
        }
        #expect(bound)
        let url = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))/plain.html"
        let stage = FetchStage(configuration: testConfiguration())
        let error = await failure(of: stage, url)
        await stage.shutdown()
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("could not be reached") == true, "\(error.map { "\($0)" } ?? "")")
        #expect(error?.message.contains("refused") == true)
        #expect(error?.message.contains("--ignore-robots") == false, "fetching without robots.txt would not reach it either")
    }

    @Test func statusCodesMapToRunnelStatuses() async throws {
        let cases: [(String, HTTPResponseStatus, StatusCode)] = [
            ("/missing", .notFound, .notFound), ("/gone", .gone, .notFound), ("/secret", .forbidden, .permissionDenied),
            ("/login", .unauthorized, .permissionDenied), ("/teapot", .imATeapot, .failedPrecondition),
            ("/broken", .internalServerError, .unavailable),
        ]
        var routes: [String: TestHTTPServer.Route] = [:]
        for (path, status, _) in cases { routes[path] = .respond(status: status, headers: [], body: []) }
        try await withServer(routes) { server, stage in
            for (path, _, code) in cases {
                let error = await failure(of: stage, server.url(path))
                #expect(error?.code == code, "\(path)")
                #expect(error?.message.contains(server.url(path)) == true, "the message names the URL")
            }
        }
    }

    @Test func nonHTMLContentTypeIsRefusedWithTheType() async throws {
        try await withServer([
            "/doc.pdf": .respond(status: .ok, headers: [("Content-Type", "application/pdf")], body: [0x25, 0x50, 0x44, 0x46])
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/doc.pdf"))
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("application/pdf") == true)
        }
    }

    @Test func textPlainIsAccepted() async throws {
        try await withServer([
            "/notes.txt": .respond(status: .ok, headers: [("Content-Type", "text/plain")], body: Array("Hà Nội".utf8))
        ]) { server, stage in
            let page = try await stage.fetch(server.url("/notes.txt"))
            #expect(page.contentType == "text/plain")
            #expect(page.html == "Hà Nội")
        }
    }

    @Test func privateAddressesAreRefusedByDefault() async throws {
        try await withServer(
            ["/plain.html": html(Self.plainPage)], configure: { $0.allowPrivateAddresses = false }
        ) { server, stage in
            for url in [server.url("/plain.html"), "http://localhost:\(server.port)/plain.html"] {
                let error = await failure(of: stage, url)
                #expect(error?.code == .permissionDenied, "\(url)")
                #expect(error?.message.contains("--allow-private") == true)
            }
            #expect(server.requests("/plain.html") == 0)
        }
    }

    @Test func perHostDelaySpacesRequests() async throws {
        try await withServer(
            ["/plain.html": html(Self.plainPage)], configure: { $0.perHostDelayMs = 150; $0.ignoreRobots = true }
        ) { server, stage in
            let start = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<3 { group.addTask { _ = try await stage.fetch(server.url("/plain.html")) } }
                try await group.waitForAll()
            }
            #expect(start.duration(to: .now) >= .milliseconds(290))
            #expect(server.requests("/plain.html") == 3)
        }
    }

    @Test func connectionRefusedIsUnavailable() async throws {
        // A port that was just free: bind, note it, close.
        let server = try await TestHTTPServer.start(routes: [:])
        let port = server.port
        try await server.stop()
        var configuration = testConfiguration()
        configuration.ignoreRobots = true
        let stage = FetchStage(configuration: configuration)
        let error = await failure(of: stage, "http://127.0.0.1:\(port)/a.html")
        await stage.shutdown()
        #expect(error?.code == .unavailable)
    }

    /// Needs a resolver that answers NXDOMAIN for `.invalid` at once; a sandbox whose DNS is
    /// unreachable makes the lookup time out instead, and the test is skipped (and says so).
    @Test(.enabled(if: resolverAnswersQuickly(), "the system resolver does not answer NXDOMAIN for .invalid within 1 s"))
    func unknownHostIsNotFound() async throws {
        let stage = FetchStage(configuration: testConfiguration())
        let error = await failure(of: stage, "http://no-such-host.invalid/a.html")
        await stage.shutdown()
        #expect(error?.code == .notFound)
        #expect(error?.message.contains("no-such-host.invalid") == true)
    }

    @Test func handleEmitsPageFetched() async throws {
        try await withServer(["/plain.html": html(Self.plainPage)]) { server, stage in
            let input = Envelope(
                type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: server.url("/plain.html"))))
            let outputs = try await stage.handle(input)
            #expect(outputs.count == 1)
            #expect(outputs.first?.type == MessageType.pageFetched)
            let page = try #require(try outputs.first?.body.decode(PageFetched.self))
            #expect(page.html.contains("Phái bộ"))
        }
    }
}

/// Whether getaddrinfo says "no such host" for a `.invalid` name within a second.
func resolverAnswersQuickly() -> Bool {
    let start = ContinuousClock.now
    var result: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo("no-such-host.invalid", nil, nil, &result)
    if let result { freeaddrinfo(result) }
    return status != 0 && start.duration(to: .now) < .seconds(1)
}
