import Foundation
import RunnelProtocol
import RunnelStage

#if canImport(Glibc)
import Glibc
#endif

/// What the control socket and the metrics endpoint are told: the typed ``PipelineStatus`` and
/// ``ControlReply``, read from the snapshot the actor publishes after every event (so a status
/// never waits behind a spawn).
extension Supervisor {
    /// The pipeline's status: the machine's view of each member, with the counters from each
    /// stage's statistics file.
    public nonisolated func status() -> PipelineStatus {
        let current = snapshot.withLock { $0 }
        let now = ContinuousClock.now
        let decoder = JSONDecoder()
        let stages = current.members.map { member in
            var stage = PipelineStatus.Stage(
                name: member.name, state: member.state.rawValue, pids: member.pids.sorted().map(Int.init), restarts: member.restarts,
                uptimeSeconds: member.pids.isEmpty ? 0 : member.startedAt.map { Int(($0.duration(to: now)).seconds) } ?? 0,
                lastStatus: member.lastStatus, peers: peers[member.name] ?? nil)
            if let path = statisticsPaths[member.name], let data = FileManager.default.contents(atPath: path),
                let statistics = try? decoder.decode(StageStatistics.self, from: data)
            {
                stage.statistics(statistics)
            }
            return stage
        }
        return PipelineStatus(
            pipeline: definition.name, host: host ?? "", pid: Int(getpid()), uptimeSeconds: Int(startedAt.duration(to: now).seconds),
            done: cursorValue(), total: current.total, outputs: current.outputs, stages: stages)
    }

    /// Answers a control request.
    public nonisolated func answer(_ request: ControlRequest) async -> ControlReply {
        switch request {
        case .ping:
            return .ok
        case .status:
            return .status(status())
        case .stop:
            await stop(.control)
            return .ok
        case let .restart(name):
            guard await restart(name) else { return unknownStage(name) }
            return .ok
        case let .tap(name):
            return tap(name)
        }
    }

    private nonisolated func unknownStage(_ name: String) -> ControlReply {
        .error("no stage named \(name) (stages: \(memberNames.joined(separator: ", ")))", code: .notFound)
    }

    nonisolated var memberNames: [String] {
        (placement.runsSource ? ["source"] : []) + placement.stages.map(\.stage.name)
    }

    /// The tap sockets of a stage's running processes, for `runnel tap`.
    nonisolated func tap(_ name: String) -> ControlReply {
        guard let member = snapshot.withLock({ $0.members }).first(where: { $0.name == name }) else { return unknownStage(name) }
        if member.name != "source", definition.stages.first(where: { $0.name == name })?.command != nil {
            return .error("\(name) runs its own command; only built-in stages (runnel …) can be tapped", code: .failedPrecondition)
        }
        let sockets = member.pids.sorted().map { tapSocket(name, pid: $0) }.filter { FileManager.default.fileExists(atPath: $0) }
        return .tap(.init(stage: name, state: member.state.rawValue, sockets: sockets))
    }

    /// Where the processes of a stage offer `runnel tap`: `NAME.tap.PID.sock` in the run directory
    /// (the stage adds `.PID.sock` to the prefix it is given).
    nonisolated func tapPrefix(_ name: String) -> String { runDirectory + "/\(name).tap" }
    nonisolated func tapSocket(_ name: String, pid: pid_t) -> String { tapPrefix(name) + ".\(pid).sock" }

    /// Source lines done end to end: the source's cursor file.
    nonisolated func cursorValue() -> Int {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/cursor") else { return 0 }
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }
}
