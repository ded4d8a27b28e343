import Logging

#if canImport(Glibc)
import Glibc
#endif

/// What a supervisor does, as a pure state machine: events in, actions out. It starts, restarts
/// and stops the members of a pipeline (its stages and the source) and holds every policy —
/// the OTP strategy and restart intensity (through ``RestartPolicy``), backoff, start order,
/// drain and shutdown order with their timeout — but does no I/O: no processes, no clock (time
/// comes in with the events), no randomness (jitter comes in as a value).
///
/// The runtime (``Supervisor``) feeds it what happened and performs what it returns:
///
/// ```swift
/// var machine = SupervisorMachine(members: [
///     .init(name: "source", restart: .transient, isSource: true),
///     .init(name: "fetch"), .init(name: "store"),
/// ])
/// machine.start(now: .now)                 // [.spawn("store"), .spawn("fetch"), .spawn("source")]
/// machine.spawned("store", pid: 41, now: .now)
/// machine.exited(pid: 41, status: .signaled(9), now: .now, jitter: 0)
///                                          // [.log(…), .schedule(timer, after: 100 ms)]
/// machine.timerFired(timer, now: .now)     // [.spawn("store")]
/// ```
///
/// States: `idle` → `running` → `draining` → `finished`. See `Sources/RunnelSupervisor/README.md`.
public struct SupervisorMachine: Sendable {
    /// A member of the pipeline as the machine needs it: its name, how it restarts, how many
    /// processes it runs.
    public struct MemberSpec: Sendable, Equatable {
        public var name: String
        public var restart: RestartPolicy.RestartType
        public var replicas: Int
        /// The source: when it exits 0 every input was acked end to end, and the pipeline drains.
        public var isSource: Bool

        public init(name: String, restart: RestartPolicy.RestartType = .permanent, replicas: Int = 1, isSource: Bool = false) {
            self.name = name
            self.restart = restart
            self.replicas = max(1, replicas)
            self.isSource = isSource
        }
    }

    /// What a member is doing, as `runnel status` shows it.
    public enum MemberState: String, Sendable, Equatable {
        case starting, running, restarting, stopping, stopped, done, failed
    }

    /// A member's processes and history.
    public struct Member: Sendable, Equatable {
        public var spec: MemberSpec
        public var name: String { spec.name }
        public var pids: Set<pid_t> = []
        public var state: MemberState = .starting
        public var startedAt: ContinuousClock.Instant?
        public var restarts = 0
        public var lastStatus: String?
        /// Stopped on purpose for a restart: start it again once its last process has exited.
        var startWhenDown = false
    }

    /// A timer the machine asked for; it comes back in ``timerFired(_:now:)``.
    public struct TimerID: Hashable, Sendable, CustomStringConvertible {
        public var rawValue: Int
        public var description: String { "timer \(rawValue)" }
    }

    /// Why the pipeline stops.
    public enum StopReason: Sendable, Equatable, CustomStringConvertible {
        /// SIGTERM or SIGINT (the service group's graceful shutdown).
        case signal(String)
        /// `runnel stop`.
        case control
        /// The supervisor's own stdout or stderr was closed (`runnel run … | head -1`): stop
        /// quietly.
        case outputClosed

        public var description: String {
            switch self {
            case let .signal(name): "signal \(name)"
            case .control: "runnel stop"
            case .outputClosed: "its output was closed"
            }
        }
    }

    /// What the runtime must do.
    public enum Action: Sendable, Equatable {
        /// Start one process of this member, then report ``spawned(_:pid:now:)`` or
        /// ``spawnFailed(_:message:now:jitter:)``.
        case spawn(String)
        /// Send `signal` to these processes.
        case signal([pid_t], Int32)
        /// Call ``timerFired(_:now:)`` with this id after the duration.
        case schedule(TimerID, after: Duration)
        case log(Logger.Level, String)
        /// Every member is down: exit with this status.
        case finish(Int32)
        /// The source is done and the links are durable queues: report ``queuesEmpty(now:)``
        /// once no queue between the stages holds a message.
        case watchQueues
    }

    enum State: Sendable, Equatable {
        case idle
        case running
        /// Stopping from the source down; `quiet` when nobody can read what it says.
        case draining(quiet: Bool)
        case finished(Int32)
    }

    enum TimerPurpose: Sendable, Equatable {
        case restart([String])
        case shutdownTimeout
        /// A member stopped for a restart that did not exit within the shutdown timeout.
        case killRestarting(String)
    }

    public private(set) var members: [Member]
    private(set) var state: State = .idle
    private var policy: RestartPolicy
    private let shutdownTimeout: Duration
    private var timers: [TimerID: TimerPurpose] = [:]
    private var nextTimer = 0
    private var exitCode: Int32 = 0
    /// Lines of output the last stage wrote (the pipeline's results), counted by the runtime.
    public private(set) var outputs = 0
    /// Source lines acked end to end (the source's cursor), as the runtime last read it.
    private var sourcesDone = 0
    /// The work finished (``outputs`` and ``sourcesDone``) when a member last stopped on its
    /// own: more since then is progress (``RestartPolicy/exited(_:status:type:order:now:progressed:jitter:)``).
    /// Either is enough: a host of a pipeline on several hosts may run the source and not the
    /// last stage, or the other way round.
    private var workAtLastStop = 0
    /// Whether the stages are linked by durable queues (JetStream), where the source is done
    /// once its messages are stored in the first queue, not once they reached the end.
    private let durableLinks: Bool

    /// - Parameters:
    ///   - members: in pipeline order, the source (if this host runs it) first.
    ///   - policy: the strategy, intensity and backoff.
    ///   - shutdownTimeout: how long a member has to drain after SIGTERM before SIGKILL.
    ///   - durableLinks: the stages are linked by durable queues: when the source is done the
    ///     machine asks the runtime to ``Action/watchQueues`` and drains once they are empty.
    public init(
        members: [MemberSpec], policy: RestartPolicy.Configuration = .init(), shutdownTimeout: Duration = .seconds(30),
        durableLinks: Bool = false
    ) {
        self.members = members.map { Member(spec: $0) }
        self.policy = RestartPolicy(configuration: policy)
        self.shutdownTimeout = shutdownTimeout
        self.durableLinks = durableLinks
    }

    /// Whether the pipeline has ended.
    public var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    /// Whether the pipeline is stopping or stopped.
    public var isStopping: Bool {
        switch state {
        case .draining, .finished: true
        case .idle, .running: false
        }
    }

    public func member(named name: String) -> Member? { members.first { $0.name == name } }

    /// The member a process belongs to.
    public func member(of pid: pid_t) -> Member? { members.first { $0.pids.contains(pid) } }

    /// Every process the machine believes is running.
    public var pids: [pid_t] { members.flatMap { $0.pids.sorted() } }

    // MARK: Events

    /// The run begins: start every member, the last stage first and the source last, so each
    /// one's next stage is up before it sends.
    public mutating func start(now: ContinuousClock.Instant) -> [Action] {
        guard state == .idle else { return [] }
        state = .running
        var actions: [Action] = []
        for index in members.indices.reversed() {
            actions += spawnMissing(index, now: now)
        }
        return actions
    }

    /// A process of `name` was started.
    public mutating func spawned(_ name: String, pid: pid_t, now: ContinuousClock.Instant) -> [Action] {
        guard let index = index(of: name) else { return [.signal([pid], SIGKILL)] }
        members[index].pids.insert(pid)
        switch state {
        case .running:
            members[index].state = .running
            members[index].startedAt = now
            return []
        case .idle, .draining, .finished:
            // Started while the pipeline stops (a spawn already under way): stop it too.
            members[index].startedAt = now
            return continueDrain()
        }
    }

    /// A process of `name` could not be started (the program is missing, no pipes left).
    ///
    /// A member that cannot be started counts as one that stopped at once (exit status 127, as
    /// a shell says): it is restarted with backoff, within the restart intensity, and the
    /// supervisor gives up when that is spent (a program that is missing for good), rather than
    /// leaving the pipeline waiting for a stage that never comes (a binary being relinked,
    /// ETXTBSY, is there again on the next try).
    public mutating func spawnFailed(
        _ name: String, message: String, now: ContinuousClock.Instant, jitter: Double = 0
    ) -> [Action] {
        guard let index = index(of: name) else { return [] }
        members[index].lastStatus = message
        if members[index].pids.isEmpty && !isStopping { members[index].state = .failed }
        var actions: [Action] = [.log(.error, "cannot start \(name): \(message)")]
        if isStopping {
            actions += continueDrain()
        } else if case .running = state, members[index].pids.isEmpty {
            actions += applyPolicy(index, status: .exited(127), now: now, jitter: jitter)
            if members[index].state == .stopped { members[index].state = .failed }  // left down
        }
        return actions
    }

    /// A process exited (reaped by the runtime).
    /// - Parameter jitter: a number in -1…1 that spreads the restart delay (random in
    ///   production, fixed in tests).
    public mutating func exited(
        pid: pid_t, status: RestartPolicy.ExitStatus, now: ContinuousClock.Instant, jitter: Double = 0
    ) -> [Action] {
        guard let index = members.firstIndex(where: { $0.pids.contains(pid) }) else { return [] }
        members[index].pids.remove(pid)
        members[index].lastStatus = status.description
        let name = members[index].name
        switch state {
        case .idle, .finished:
            return []
        case .draining:
            if members[index].pids.isEmpty { members[index].state = .stopped }
            return continueDrain()
        case .running:
            break
        }
        if members[index].spec.isSource && status.isNormal {
            members[index].state = .done
            if durableLinks {
                // In the first queue is not at the end: the stages go on until the queues are empty.
                return [.log(.info, "source: every URL is stored in JetStream; waiting until the stages have emptied their queues"), .watchQueues]
            }
            // No output count here: the last stage's output may still be in its pipe. The count
            // is exact in the summary once every stage has exited and its pipes are read.
            return [.log(.info, "source: every URL was acked end to end; draining the stages")]
                + beginDrain(reason: nil, quiet: false, now: now)
        }
        if members[index].state == .restarting {
            // Stopped on purpose (a rest_for_one or one_for_all restart, or runnel restart).
            if members[index].startWhenDown && members[index].pids.isEmpty {
                members[index].startWhenDown = false
                members[index].restarts += 1
                return spawnMissing(index, now: now)
            }
            return []
        }
        return [.log(.warning, "\(name) stopped: \(status)")] + applyPolicy(index, status: status, now: now, jitter: jitter)
    }

    /// The restart policy's answer to member `index` having stopped with `status`.
    private mutating func applyPolicy(
        _ index: Int, status: RestartPolicy.ExitStatus, now: ContinuousClock.Instant, jitter: Double
    ) -> [Action] {
        let name = members[index].name
        var actions: [Action] = []
        if let started = members[index].startedAt, started.duration(to: now) > policy.configuration.period {
            policy.stayedUp(name)
        }
        let order = members.map(\.name)
        let work = outputs + sourcesDone
        let progressed = work > workAtLastStop
        workAtLastStop = work
        switch policy.exited(
            name, status: status, type: members[index].spec.restart, order: order, now: now, progressed: progressed, jitter: jitter)
        {
        case .leaveDown:
            if members[index].pids.isEmpty { members[index].state = .stopped }
        case let .giveUp(reason):
            exitCode = 1
            actions.append(.log(.error, reason))
            actions += beginDrain(reason: reason, quiet: false, now: now)
        case let .restart(names, delay):
            for other in names where other != name {
                guard let j = self.index(of: other) else { continue }
                members[j].state = .restarting
                if !members[j].pids.isEmpty { actions.append(.signal(members[j].pids.sorted(), SIGTERM)) }
            }
            members[index].state = .restarting
            let timer = makeTimer(.restart(names))
            actions.append(.log(.info, "restarting \(names.joined(separator: ", ")) in \(delay.milliseconds) ms"))
            actions.append(.schedule(timer, after: delay))
        }
        return actions
    }

    /// A timer the machine scheduled is due.
    public mutating func timerFired(_ timer: TimerID, now: ContinuousClock.Instant) -> [Action] {
        guard let purpose = timers.removeValue(forKey: timer) else { return [] }
        switch purpose {
        case let .restart(names):
            guard state == .running else { return [] }  // a restart due during the drain is dropped
            var actions: [Action] = []
            // Start order: later stages first.
            for index in members.indices.reversed() where names.contains(members[index].name) {
                guard members[index].state == .restarting else { continue }
                // The one that exited (named first) replaces its missing processes; its other
                // replicas were left running. The others were stopped: each starts when down.
                if members[index].pids.isEmpty || members[index].name == names.first {
                    members[index].restarts += 1
                    actions += spawnMissing(index, now: now)
                } else {
                    // Still draining after our SIGTERM: start it again when it has exited.
                    members[index].startWhenDown = true
                }
            }
            return actions
        case .shutdownTimeout:
            guard case .draining = state else { return [] }
            var actions: [Action] = []
            for member in members where !member.pids.isEmpty {
                actions.append(.log(.warning, "\(member.name) did not stop within \(shutdownTimeout); killing it"))
                actions.append(.signal(member.pids.sorted(), SIGKILL))
                exitCode = 1  // what it had acked may not have reached the end
            }
            return actions
        case let .killRestarting(name):
            guard state == .running, let index = index(of: name), members[index].state == .restarting,
                !members[index].pids.isEmpty
            else { return [] }
            return [
                .log(.warning, "\(name) did not stop within \(shutdownTimeout) for its restart; killing it"),
                .signal(members[index].pids.sorted(), SIGKILL),
            ]
        }
    }

    /// The queues between the stages are empty (after ``Action/watchQueues``): every message
    /// went through to the last stage, so the pipeline drains. Ignored unless it is running.
    public mutating func queuesEmpty(now: ContinuousClock.Instant) -> [Action] {
        guard state == .running else { return [] }
        return [.log(.info, "the JetStream queues are empty: every message reached the last stage; draining the stages")]
            + beginDrain(reason: nil, quiet: false, now: now)
    }

    /// Stop the pipeline: drain from the source down.
    public mutating func stopRequested(_ reason: StopReason, now: ContinuousClock.Instant) -> [Action] {
        switch state {
        case .idle:
            state = .finished(exitCode)
            return [.finish(exitCode)]
        case .running:
            return beginDrain(reason: reason == .outputClosed ? nil : reason.description, quiet: reason == .outputClosed, now: now)
        case .draining(let quiet):
            if reason == .outputClosed && !quiet { state = .draining(quiet: true) }
            return []
        case .finished:
            return []
        }
    }

    /// `runnel restart STAGE`: stop it (it drains), and start it again once it has exited.
    /// Ignored while the pipeline stops. Returns `nil` when no member has that name.
    public mutating func restartRequested(_ name: String, now: ContinuousClock.Instant) -> [Action]? {
        guard let index = index(of: name) else { return nil }
        guard state == .running else { return [] }
        members[index].state = .restarting
        if members[index].pids.isEmpty {
            members[index].restarts += 1
            return [.log(.info, "restarting \(name) (runnel restart)")] + spawnMissing(index, now: now)
        }
        members[index].startWhenDown = true
        let timer = makeTimer(.killRestarting(name))
        return [
            .log(.info, "restarting \(name) (runnel restart)"), .signal(members[index].pids.sorted(), SIGTERM),
            .schedule(timer, after: shutdownTimeout),
        ]
    }

    /// The runtime counted `count` more lines of output from the last stage.
    public mutating func countOutputs(_ count: Int) {
        outputs += count
    }

    /// The runtime read the source's cursor: `count` source lines are done end to end.
    public mutating func sourcesDone(_ count: Int) {
        sourcesDone = max(sourcesDone, count)
    }

    // MARK: Helpers

    private func index(of name: String) -> Int? { members.firstIndex { $0.name == name } }

    private mutating func makeTimer(_ purpose: TimerPurpose) -> TimerID {
        nextTimer += 1
        let id = TimerID(rawValue: nextTimer)
        timers[id] = purpose
        return id
    }

    private mutating func spawnMissing(_ index: Int, now: ContinuousClock.Instant) -> [Action] {
        members[index].state = .starting
        members[index].startedAt = now
        let missing = members[index].spec.replicas - members[index].pids.count
        return Array(repeating: .spawn(members[index].name), count: max(0, missing))
    }

    private mutating func beginDrain(reason: String?, quiet: Bool, now: ContinuousClock.Instant) -> [Action] {
        state = .draining(quiet: quiet)
        // Restarts and kills that were pending no longer apply.
        timers = [:]
        for index in members.indices { members[index].startWhenDown = false }
        var actions: [Action] = []
        if let reason, !quiet { actions.append(.log(.info, "stopping the pipeline: \(reason)")) }
        actions.append(.schedule(makeTimer(.shutdownTimeout), after: shutdownTimeout))
        return actions + continueDrain()
    }

    /// From the source down, each member gets SIGTERM once the one before it has exited (so what
    /// it sent is acked); when none is left the pipeline is finished.
    private mutating func continueDrain() -> [Action] {
        guard case .draining = state else { return [] }
        for index in members.indices {
            if members[index].pids.isEmpty {
                if members[index].state != .done && members[index].state != .failed { members[index].state = .stopped }
                continue
            }
            if members[index].state != .stopping {
                members[index].state = .stopping
                return [.signal(members[index].pids.sorted(), SIGTERM)]
            }
            return []  // wait for this one before stopping the next
        }
        state = .finished(exitCode)
        return [.finish(exitCode)]
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
