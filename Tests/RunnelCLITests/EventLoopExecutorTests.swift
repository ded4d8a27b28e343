import Foundation
import Testing

/// `RUNNEL_EXECUTOR=loops`: a stage's Swift tasks on NIO's event loop threads, in any build.
@Suite("Tasks on the event loops")
struct EventLoopExecutorTests {
    @Test("a relay on the event loops passes every message and says it runs there")
    func relayOnLoops() async throws {
        let lines = (0..<500).map { #"{"id":"m\#($0)","type":"t.x","body":{"n":\#($0)}}"# }
        let result = try await RunnelProcess.exec(
            RunnelProcess.runnel, ["relay"], stdin: Data((lines.joined(separator: "\n") + "\n").utf8),
            environment: ["RUNNEL_EXECUTOR": "loops", "RUNNEL_LOG_LEVEL": "debug"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.count == 500)
        #expect(result.stdoutLines.last?.contains(#""id":"m499""#) == true)
        // The hook is set through the linker, so a build with the runtime linked in takes it too.
        #expect(result.stderr.contains("tasks run on the event loop threads"), "\(result.stderr)")
        #expect(!result.stderr.contains("cannot take effect"))
    }

    @Test("fetch keeps Swift's own threads whatever the variable says")
    func fetchIgnoresIt() async throws {
        let result = try await RunnelProcess.exec(
            RunnelProcess.runnel, ["fetch"], stdin: Data(),
            environment: ["RUNNEL_EXECUTOR": "loops", "RUNNEL_LOG_LEVEL": "debug"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(!result.stderr.contains("event loop threads"))
    }
}
