import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

@Suite("runnel store: the stage conformance suite")
struct StoreConformanceTests {
    @Test("start, batch, bad input, peer killed, drain — over Unix sockets", .timeLimit(.minutes(2)))
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

        let problems = try await StageConformance.run(stage, in: dir)

        #expect(problems.isEmpty, "\(problems)")
        let count = try await RunnelProcess.exec("/usr/bin/env", ["sqlite3", db, "SELECT count(*) FROM articles"])
        #expect(count.stdoutText == "20\n", "every check stored the same 20 articles, once")
        // The bad line of the badInput check reached the store as an error record, which the
        // store keeps rather than passing on: nothing vanishes.
        let failures = try await RunnelProcess.exec("/usr/bin/env", ["sqlite3", db, "SELECT status || ' ' || raw FROM failures"])
        #expect(failures.stdoutText == "INVALID_ARGUMENT this is not JSON\n")
    }
}

