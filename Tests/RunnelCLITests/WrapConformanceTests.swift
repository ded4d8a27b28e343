import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// `runnel wrap` around a line filter (`jq`) passes the suite every stage passes: start, batch,
/// bad input, peer killed and back, drain on SIGTERM.
@Suite("runnel wrap conformance")
struct WrapConformanceTests {
    @Test("runnel wrap -- jq: start, batch, bad input, peer killed, drain", .timeLimit(.minutes(2)))
    func wrapJq() async throws {
        let stage = StageUnderTest(
            name: "wrap", command: [RunnelProcess.runnel, "wrap"], inputs: ConformanceTests.urlRequests(50),
            trailing: ["--", "jq", "-c", "--unbuffered", ".body.url |= ascii_downcase"])
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let problems = try await StageConformance.run(stage, in: directory)

        #expect(problems.isEmpty, "\(problems)")
    }
}
