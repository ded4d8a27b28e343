import Foundation
import NIOHTTP1
import RunnelProtocol
import Testing

@testable import FetchStage

/// What the adversarial suite's http cases found in fetch: a body in an encoding the client
/// cannot decode, and messages that name the flags as they are spelled now.
@Suite struct FetchAdversarialTests {
    @Test func unknownContentEncodingIsRefused() async throws {
        try await withServer([
            "/br.html": html([0x00, 0x01, 0x02, 0xFF], extra: [("Content-Encoding", "br-nonsense")]),
            "/identity.html": html(Fixtures.ascii("<p>plain</p>"), extra: [("Content-Encoding", "identity")]),
        ]) { server, stage in
            let error = await failure(of: stage, server.url("/br.html"))
            #expect(error?.code == .failedPrecondition)
            #expect(error?.message.contains("br-nonsense") == true, "\(error?.message ?? "")")
            let page = try await stage.fetch(server.url("/identity.html"))
            #expect(page.html == "<p>plain</p>")
        }
    }

    @Test func readTimeoutNamesTheFlag() async throws {
        try await withServer(["/stall": .stall(declaredLength: 1000, sent: Fixtures.ascii("<p>"))], configure: {
            $0.readTimeoutMs = 200
            $0.retries = 0
        }) { server, stage in
            let error = await failure(of: stage, server.url("/stall"))
            #expect(error?.code == .unavailable)
            #expect(error?.message.contains("(--read-timeout)") == true, "\(error?.message ?? "")")
        }
    }

    @Test func tlsFailureReadsAsItsReason() {
        let text = #"handshakeFailed(NIOSSL.BoringSSLError.sslError([Error: 268435703 error:100000f7:SSL routines:OPENSSL_internal:WRONG_VERSION_NUMBER at /x/tls_record.cc:127]))"#
        #expect(HTTPFetcher.tlsReason(text) == "the handshake failed (WRONG_VERSION_NUMBER)")
        #expect(HTTPFetcher.tlsReason("certificate expired") == "certificate expired")
    }
}
