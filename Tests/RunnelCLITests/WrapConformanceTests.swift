import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// `runnel wrap` around a line filter (`jq`) passes the suite every stage passes: start, batch,
/// bad input, peer killed and back, drain on SIGTERM.
@Suite("runnel wrap conformance")
struct WrapConformanceTests {
    static let stage = StageUnderTest(
        name: "wrap", command: [RunnelProcess.runnel, "wrap"], inputs: ConformanceTests.urlRequests(50),
        trailing: ["--", "jq", "-c", "--unbuffered", ".body.url |= ascii_downcase"])

    @Test("runnel wrap -- jq: start, batch, peer killed, drain", .timeLimit(.minutes(2)))
    func wrapJq() async throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let problems = try await StageConformance.run(Self.stage, in: directory, checks: [.start, .batch, .peerKilled, .drain])

        #expect(problems.isEmpty, "\(problems)")
    }

    /// Bad input: jq prints nothing for the unknown type's empty body (nor for the unreadable
    /// line's error record, which has no URL either): its error goes to stderr and it goes on.
    /// Wrap used to hand each later answer to the input before, so the failing inputs' records
    /// came only when they happened to be last in a batch (intermittent: it depended on the
    /// batches). Now the inputs since jq last owed nothing are run again alone, and those it
    /// fails on become error records (WrapCommandTests `silentFailure`).
    @Test("runnel wrap -- jq: bad input gives error records", .timeLimit(.minutes(2)))
    func wrapJqBadInput() async throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }

        let problems = try await StageConformance.run(Self.stage, in: directory, checks: [.badInput])

        #expect(problems.isEmpty, "\(problems)")
    }
}
