import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// Every stage passes the same suite (start, batch, bad input, peer killed and back, drain on
/// SIGTERM); a stage written in Python from the protocol document passes it too.
@Suite("Stage conformance", .serialized)
struct ConformanceTests {
    static func urlRequests(_ count: Int) -> [Envelope] {
        (0..<count).map { i in
            Envelope(type: "url.requested", body: try! RawJSON(#"{"url":"https://EXAMPLE.vn/bai-\#(i).html"}"#))
        }
    }

    @Test("runnel relay passes the conformance suite", .timeLimit(.minutes(2)))
    func relay() async throws {
        let stage = StageUnderTest(name: "relay", command: [RunnelProcess.runnel, "relay"], inputs: Self.urlRequests(300))
        let problems = try await StageConformance.run(stage, in: try RunnelProcess.temporaryDirectory())
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("a stage written in Python from the protocol document passes the conformance suite", .timeLimit(.minutes(2)))
    func pythonStage() async throws {
        let script = RunnelProcess.packageRoot.appendingPathComponent("Examples/python-stage/stage.py").path
        let stage = StageUnderTest(name: "python", command: ["python3", script], inputs: Self.urlRequests(300))
        let problems = try await StageConformance.run(stage, in: try RunnelProcess.temporaryDirectory())
        #expect(problems.isEmpty, "\(problems)")
    }

    @Test("the in-memory runner applies lineage, types and deadlines like the socket runner")
    func inMemory() async throws {
        let inputs = Self.urlRequests(3) + [Envelope(type: "x.other", deadlineMs: 0, body: .null)]
        let result = await InMemoryRunner(stage: UpperStage()).run(inputs)
        #expect(result.acked.count == 4)
        #expect(result.outputs.count == 3)
        #expect(result.outputs.allSatisfy { $0.parent != nil && $0.type == "url.requested" })
        #expect(result.deadLetters.count == 1)
        #expect(result.deadLetters.first?.body.description.contains("FAILED_PRECONDITION") == true)
    }
}

import RunnelStage

/// A tiny stage for the in-memory runner test.
struct UpperStage: MessageStage {
    let service = ServiceDefinition(name: "upper", summary: "Upper-cases URLs.", accepts: ["url.requested"], emits: ["url.requested"])

    func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        let request = try message.body.decode(URLRequested.self)
        return [try Emission(type: "url.requested", encoding: URLRequested(url: request.url.uppercased()))]
    }
}
