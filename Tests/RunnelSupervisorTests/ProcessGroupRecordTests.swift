import Foundation
import RunnelTransport
import Testing

@testable import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor killed with SIGKILL leaves: a stage that is not a Runnel binary (a
/// `command = [...]` that ignores SIGTERM and does not watch `RUNNEL_SUPERVISOR_PID`) outlives
/// it, and the next `runnel run` of the pipeline ends its whole process group from the record.
@Suite("Process group record")
struct ProcessGroupRecordTests {
    /// A pid that no process has any more: a child that has exited and been reaped.
    static func deadPid() async throws -> pid_t {
        let child = try ChildProcess.launch(.init(["true"], standardOutput: .null, standardError: .null, terminateAtExit: false))
        _ = await child.exit()
        return child.pid
    }

    static func stateDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-groups-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    @Test("the groups of a dead supervisor are killed, a stubborn command and its children included", .timeLimit(.minutes(1)))
    func killsWhatADeadSupervisorLeft() async throws {
        let supervisor = try await Self.deadPid()
        var environment = ProcessInfo.processInfo.environment
        environment["RUNNEL_SUPERVISOR_PID"] = String(supervisor)
        // A shell that ignores SIGTERM, with a child of its own in its group.
        let stage = try ChildProcess.launch(
            .init(
                ["sh", "-c", "trap '' TERM; sleep 600 & wait"], environment: environment, standardOutput: .null, standardError: .null,
                terminateAtExit: false))
        defer { _ = stage.signal(SIGKILL) }
        let directory = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let record = ProcessGroupRecord(stateDirectory: directory)
        record.write(supervisor: supervisor, groups: [stage.pid])
        // The shell must have started (its environment is what the record is checked against).
        #expect(await eventually { ProcessGroupRecord.environment(of: stage.pid)?.contains("RUNNEL_SUPERVISOR_PID=\(supervisor)") == true })

        #expect(record.killLeftovers() == [stage.pid])
        let exit = await stage.exit(timeout: .seconds(20))
        #expect(exit == .signaled(SIGKILL), "\(String(describing: exit))")
        #expect(await eventually { kill(-stage.pid, 0) != 0 }, "a process of the group is left")
        #expect(!FileManager.default.fileExists(atPath: record.path), "the record is removed once used")
    }

    @Test("a group whose leader does not carry the dead supervisor's pid (a pid used again) is left alone", .timeLimit(.minutes(1)))
    func leavesStrangersAlone() async throws {
        let supervisor = try await Self.deadPid()
        let stranger = try ChildProcess.launch(.init(["sleep", "600"], standardOutput: .null, standardError: .null, terminateAtExit: false))
        defer { _ = stranger.signal(SIGKILL) }
        let directory = try Self.stateDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let record = ProcessGroupRecord(stateDirectory: directory)
        record.write(supervisor: supervisor, groups: [stranger.pid])
        #expect(await eventually { ProcessGroupRecord.environment(of: stranger.pid)?.contains { $0.hasPrefix("PATH=") } == true })
        #expect(record.killLeftovers().isEmpty)
        #expect(kill(stranger.pid, 0) == 0, "the stranger still runs")
    }
}

/// Polls `condition` until it holds or 10 s pass: what it waits for is another process's state
/// (its exec, its group's end), which no event announces here.
private func eventually(_ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(10)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return condition()
}
