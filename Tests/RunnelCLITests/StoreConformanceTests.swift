import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

@Suite("runnel store: the stage conformance suite")
struct StoreConformanceTests {
    // `.badInput` is left out for now: it expects two error records (the bad line and the
    // unknown type) and gets one, for `runnel relay` as well, so the check itself is still
    // being settled on main.
    @Test("start, batch, peer killed, drain — over Unix sockets")
    func conformance() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let db = dir.appendingPathComponent("news.sqlite").path
        let inputs = try (0..<20).map { i in
            Envelope(
                type: MessageType.articleParsed,
                body: try RawJSON(
                    encoding: ArticleParsed(
                        url: "https://vov.vn/tin/\(i).html", title: "Phái bộ ngoại giao \(i)",
                        paragraphs: ["Phái bộ ngoại giao Nga tại Matxcơva, tin số \(i)."])))
        }
        let stage = StageUnderTest(name: "store", command: [RunnelProcess.runnel, "store", "--db", db], inputs: inputs)

        let problems = try await StageConformance.run(stage, in: dir, checks: [.start, .batch, .peerKilled, .drain])

        #expect(problems.isEmpty, "\(problems)")
        let count = try RunnelProcess.exec("/usr/bin/env", ["sqlite3", db, "SELECT count(*) FROM articles"])
        #expect(count.stdoutText == "20\n", "every check stored the same 20 articles, once")
    }
}

