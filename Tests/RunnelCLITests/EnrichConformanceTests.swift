import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// `runnel enrich` as a process on Unix sockets passes the suite every stage passes.
@Suite("runnel enrich conformance")
struct EnrichConformanceTests {
    @Test("start, batch, bad input, peer killed, drain")
    func conformance() async throws {
        let line = EnrichCommandTests.article
        let seed = try JSONDecoder().decode(SeedLine.self, from: Data(line.utf8))
        let inputs = try (0..<8).map { i in
            Envelope(id: "enrich-\(i)", type: "article.parsed", body: try RawJSON(encoding: seed.body))
        }
        let stage = StageUnderTest(name: "enrich", command: [RunnelProcess.runnel, "enrich"], inputs: inputs)
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let problems = try await StageConformance.run(stage, in: directory)
        #expect(problems.isEmpty, "\(problems)")
    }

    struct SeedLine: Decodable {
        var body: ArticleParsed
    }
}
