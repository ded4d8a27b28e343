import Testing

@testable import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's machine driven by event sequences: no processes, no clock, no sleeps.
@Suite("Supervisor machine (pure state machine)")
struct SupervisorMachineTests {
    typealias Action = SupervisorMachine.Action

    static let members: [SupervisorMachine.MemberSpec] = [
        .init(name: "source", restart: .transient, isSource: true), .init(name: "fetch"), .init(name: "parse"), .init(name: "store"),
    ]
    let t0 = ContinuousClock.now

    /// A machine started with one process per member: source 100, fetch 101, parse 102, store 103.
    func running(
        strategy: RestartPolicy.Strategy = .oneForOne, maxRestarts: Int = 10, members: [SupervisorMachine.MemberSpec] = Self.members
    ) -> SupervisorMachine {
        var machine = SupervisorMachine(
            members: members,
            policy: .init(strategy: strategy, maxRestarts: maxRestarts, period: .seconds(60), initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(350), jitter: 0.2),
            shutdownTimeout: .seconds(10))
        _ = machine.start(now: t0)
        for (offset, member) in members.enumerated() {
            _ = machine.spawned(member.name, pid: pid_t(100 + offset), now: t0)
        }
        return machine
    }

    func timer(in actions: [Action]) -> (SupervisorMachine.TimerID, Duration)? {
        for case let .schedule(id, after) in actions { return (id, after) }
        return nil
    }

    func spawns(_ actions: [Action]) -> [String] { actions.compactMap { if case let .spawn(name) = $0 { name } else { nil } } }
    func signals(_ actions: [Action]) -> [([pid_t], Int32)] {
        actions.compactMap { if case let .signal(pids, signal) = $0 { (pids, signal) } else { nil } }
    }

    @Test("start order: the last stage first, the source last; replicas spawn as many processes")
    func startOrder() {
        var machine = SupervisorMachine(members: [
            .init(name: "source", restart: .transient, isSource: true), .init(name: "fetch", replicas: 2), .init(name: "store"),
        ])
        #expect(spawns(machine.start(now: t0)) == ["store", "fetch", "fetch", "source"])
        #expect(machine.start(now: t0).isEmpty, "a second start does nothing")
        _ = machine.spawned("fetch", pid: 7, now: t0)
        #expect(machine.member(named: "fetch")?.state == .running)
        #expect(machine.member(of: 7)?.name == "fetch")
    }

    @Test("one_for_one: only the stage that exited restarts, after the backoff, which grows and is capped")
    func oneForOne() throws {
        var machine = running()
        var actions = machine.exited(pid: 102, status: .signaled(9), now: t0, jitter: 0)
        #expect(actions.contains(.log(.warning, "parse stopped: killed by signal 9 (SIGKILL)")))
        #expect(signals(actions).isEmpty, "nobody else is stopped")
        var (id, delay) = try #require(timer(in: actions))
        #expect(delay == .milliseconds(100))
        #expect(machine.member(named: "parse")?.state == .restarting)
        #expect(spawns(machine.timerFired(id, now: t0)) == ["parse"])
        #expect(machine.timerFired(id, now: t0).isEmpty, "a timer fires once")
        _ = machine.spawned("parse", pid: 200, now: t0)
        #expect(machine.member(named: "parse")?.restarts == 1)
        // Backoff doubles per consecutive failure and stops at max (350 ms).
        var delays: [Duration] = [delay]
        var pid: pid_t = 200
        for _ in 0..<3 {
            actions = machine.exited(pid: pid, status: .exited(1), now: t0, jitter: 0)
            (id, delay) = try #require(timer(in: actions))
            delays.append(delay)
            _ = machine.timerFired(id, now: t0)
            pid += 1
            _ = machine.spawned("parse", pid: pid, now: t0)
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(350), .milliseconds(350)])
        // Jitter, passed in as a value, spreads the delay by its fraction (0.2).
        actions = machine.exited(pid: pid, status: .exited(1), now: t0, jitter: -1)
        #expect(timer(in: actions)?.1 == .milliseconds(280))
        // A stage that stayed up longer than the period starts its backoff over.
        let later = t0 + .seconds(120)
        _ = machine.timerFired(try #require(timer(in: actions)).0, now: t0)
        _ = machine.spawned("parse", pid: 300, now: t0)
        actions = machine.exited(pid: 300, status: .exited(1), now: later, jitter: 0)
        #expect(timer(in: actions)?.1 == .milliseconds(100))
    }

    @Test("rest_for_one: the stage and those after it are stopped and restarted, later ones first")
    func restForOne() throws {
        var machine = running(strategy: .restForOne)
        let actions = machine.exited(pid: 101, status: .exited(2), now: t0, jitter: 0)
        #expect(signals(actions).map(\.0) == [[102], [103]])
        #expect(signals(actions).allSatisfy { $0.1 == SIGTERM })
        #expect(actions.contains(.log(.info, "restarting fetch, parse, store in 100 ms")))
        let (id, _) = try #require(timer(in: actions))
        // parse exits (on purpose): no policy, no new timer.
        #expect(machine.exited(pid: 102, status: .signaled(15), now: t0).isEmpty)
        #expect(machine.member(named: "parse")?.state == .restarting)
        // At the timer store is still draining: fetch and parse start, store when it has exited.
        #expect(spawns(machine.timerFired(id, now: t0)) == ["parse", "fetch"])
        #expect(spawns(machine.exited(pid: 103, status: .exited(0), now: t0)) == ["store"])
        #expect(machine.member(named: "source")?.pids == [100], "the source was left alone")
        #expect(machine.member(named: "store")?.restarts == 1)
    }

    @Test("one_for_all: every member is stopped and restarted")
    func oneForAll() throws {
        var machine = running(strategy: .oneForAll)
        let actions = machine.exited(pid: 102, status: .exited(2), now: t0, jitter: 0)
        #expect(Set(signals(actions).flatMap(\.0)) == [100, 101, 103])
        for pid: pid_t in [100, 101, 103] { #expect(machine.exited(pid: pid, status: .signaled(15), now: t0).isEmpty) }
        let (id, _) = try #require(timer(in: actions))
        #expect(spawns(machine.timerFired(id, now: t0)) == ["store", "parse", "fetch", "source"])
    }

    @Test("past max_restarts within the period the machine gives up: drain, then finish with 1")
    func intensity() throws {
        var machine = running(maxRestarts: 2)
        var pid: pid_t = 103
        for _ in 0..<2 {
            let actions = machine.exited(pid: pid, status: .exited(3), now: t0, jitter: 0)
            _ = machine.timerFired(try #require(timer(in: actions)).0, now: t0)
            pid += 100
            _ = machine.spawned("store", pid: pid, now: t0)
        }
        var actions = machine.exited(pid: pid, status: .exited(3), now: t0, jitter: 0)
        #expect(actions.contains { if case let .log(.error, text) = $0 { text.contains("already restarted 2 times") } else { false } })
        #expect(spawns(actions).isEmpty)
        #expect(machine.isStopping)
        // Drain from the source down.
        #expect(signals(actions).map(\.0) == [[100]])
        actions = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(signals(actions).map(\.0) == [[101]])
        actions = machine.exited(pid: 101, status: .exited(0), now: t0)
        #expect(signals(actions).map(\.0) == [[102]])
        #expect(machine.exited(pid: 102, status: .exited(0), now: t0) == [.finish(1)])
        #expect(machine.isFinished)
    }

    @Test("restarts with outputs or source lines done between them are restarted however often: progress is no crash loop")
    func restartsAfterProgress() throws {
        var machine = running(maxRestarts: 2)
        var pid: pid_t = 103
        for round in 0..<12 {
            // Progress seen either way: the last stage's lines, or (a host that runs the source
            // and not the last stage) the source's cursor; a cursor read again unmoved is none.
            if round % 4 == 0 { machine.countOutputs(5) }
            if round % 4 == 2 { machine.sourcesDone(round * 10) }
            if round % 4 == 3 { machine.sourcesDone((round - 1) * 10) }
            let actions = machine.exited(pid: pid, status: .exited(3), now: t0, jitter: 0)
            #expect(!machine.isStopping, "\(actions)")
            _ = machine.timerFired(try #require(timer(in: actions)).0, now: t0)
            pid += 100
            _ = machine.spawned("store", pid: pid, now: t0)
        }
        // The last two came without progress between them: a third in a row is one too many.
        let actions = machine.exited(pid: pid, status: .exited(3), now: t0, jitter: 0)
        #expect(actions.contains { if case let .log(.error, text) = $0 { text.contains("already restarted 2 times") } else { false } })
        #expect(machine.isStopping)
    }

    @Test("shutdown: SIGTERM one member at a time from the source down; the timeout SIGKILLs and exits 1")
    func shutdownOrderAndTimeout() throws {
        var machine = running()
        var actions = machine.stopRequested(.signal("SIGTERM"), now: t0)
        #expect(actions.first == .log(.info, "stopping the pipeline: signal SIGTERM"))
        let (timeout, after) = try #require(timer(in: actions))
        #expect(after == .seconds(10))
        #expect(signals(actions).map(\.0) == [[100]])
        #expect(machine.stopRequested(.control, now: t0).isEmpty, "a second stop changes nothing")
        actions = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(signals(actions).map { $0.0 } == [[101]])
        #expect(machine.member(named: "source")?.state == .stopped)
        // fetch never exits: at the timeout it is killed, and the exit status says so.
        actions = machine.timerFired(timeout, now: t0 + .seconds(10))
        #expect(signals(actions).map(\.0) == [[101], [102], [103]])
        #expect(signals(actions).allSatisfy { $0.1 == SIGKILL })
        _ = machine.exited(pid: 101, status: .signaled(9), now: t0)
        _ = machine.exited(pid: 102, status: .signaled(9), now: t0)
        #expect(machine.exited(pid: 103, status: .signaled(9), now: t0) == [.finish(1)])
    }

    @Test("a clean shutdown finishes with 0; a closed output stops quietly")
    func cleanShutdown() {
        var machine = running()
        let actions = machine.stopRequested(.outputClosed, now: t0)
        #expect(!actions.contains { if case .log = $0 { true } else { false } }, "nothing is said to a closed output")
        var last: [Action] = []
        for pid: pid_t in 100...103 { last = machine.exited(pid: pid, status: .exited(0), now: t0) }
        #expect(last == [.finish(0)])
        #expect(machine.member(named: "store")?.state == .stopped)
    }

    @Test("restarts due during the shutdown are ignored, and so is a control restart")
    func restartDuringShutdown() throws {
        var machine = running()
        let crash = machine.exited(pid: 102, status: .exited(1), now: t0, jitter: 0)
        let (restart, _) = try #require(timer(in: crash))
        _ = machine.stopRequested(.control, now: t0)
        #expect(machine.timerFired(restart, now: t0).isEmpty)
        #expect(machine.restartRequested("fetch", now: t0) == [])
        #expect(machine.restartRequested("nosuch", now: t0) == nil, "an unknown stage is refused")
        // parse is down: the drain goes source → fetch → store.
        _ = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(signals(machine.exited(pid: 101, status: .exited(0), now: t0)).map(\.0) == [[103]])
        #expect(machine.exited(pid: 103, status: .exited(0), now: t0) == [.finish(0)])
    }

    @Test("runnel restart: SIGTERM, and a new process once the old one has exited; killed after the timeout")
    func controlRestart() throws {
        var machine = running()
        let requested = machine.restartRequested("parse", now: t0)
        var actions = try #require(requested)
        #expect(signals(actions).map(\.0) == [[102]])
        #expect(signals(actions).first?.1 == SIGTERM)
        let (kill, _) = try #require(timer(in: actions))
        actions = machine.exited(pid: 102, status: .exited(0), now: t0)
        #expect(spawns(actions) == ["parse"], "a member stopped on purpose restarts without the policy")
        #expect(!actions.contains { if case .log(.warning, _) = $0 { true } else { false } })
        _ = machine.spawned("parse", pid: 222, now: t0)
        #expect(machine.member(named: "parse")?.restarts == 1)
        #expect(machine.timerFired(kill, now: t0).isEmpty, "it exited in time")
        // One that ignores SIGTERM is killed at the timeout.
        let again = machine.restartRequested("store", now: t0)
        actions = try #require(again)
        let (kill2, _) = try #require(timer(in: actions))
        #expect(signals(machine.timerFired(kill2, now: t0)).map { $0.1 } == [SIGKILL])
    }

    @Test("the source exiting 0 drains everything; exiting otherwise restarts it (transient)")
    func sourceDone() throws {
        var machine = running()
        machine.countOutputs(60)
        var actions = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(actions.first == .log(.info, "source: every URL was acked end to end; draining the stages"))
        #expect(machine.member(named: "source")?.state == .done)
        #expect(signals(actions).map(\.0) == [[101]])
        var second = running()
        actions = second.exited(pid: 100, status: .exited(69), now: t0, jitter: 0)
        #expect(timer(in: actions) != nil)
        #expect(!second.isStopping)
    }

    @Test("temporary members stay down; a spawn failure leaves the member failed")
    func temporaryAndFailedSpawn() {
        var machine = running(members: [.init(name: "source", restart: .transient, isSource: true), .init(name: "tool", restart: .temporary)])
        let actions = machine.exited(pid: 101, status: .exited(1), now: t0)
        #expect(timer(in: actions) == nil)
        #expect(machine.member(named: "tool")?.state == .stopped)
        #expect(machine.spawnFailed("tool", message: "no such file", now: t0) == [.log(.error, "cannot start tool: no such file")])
        #expect(machine.member(named: "tool")?.state == .failed)
    }

    @Test("a permanent member that cannot be started is tried again with backoff, and given up on like one that crashes")
    func failedSpawnIsRetried() throws {
        var machine = running(members: [.init(name: "source", restart: .transient, isSource: true), .init(name: "parse")])
        var actions = machine.exited(pid: 101, status: .exited(1), now: t0)
        var (retry, _) = try #require(timer(in: actions))
        actions = machine.timerFired(retry, now: t0 + .seconds(1))
        #expect(spawns(actions) == ["parse"])
        actions = machine.spawnFailed("parse", message: "Text file busy", now: t0 + .seconds(1))
        #expect(actions.first == .log(.error, "cannot start parse: Text file busy"))
        (retry, _) = try #require(timer(in: actions), "a restart is scheduled, not a pipeline left waiting")
        #expect(!machine.isStopping)
        // A program missing for good: each try fails at once, until the restart intensity is spent.
        var attempts = 1
        while !machine.isStopping && attempts < 30 {
            attempts += 1
            actions = machine.timerFired(retry, now: t0 + .seconds(attempts))
            #expect(spawns(actions) == ["parse"])
            actions = machine.spawnFailed("parse", message: "No such file or directory", now: t0 + .seconds(attempts))
            if let next = timer(in: actions) { retry = next.0 }
        }
        #expect(machine.isStopping, "the supervisor gives up once max_restarts is spent")
        #expect(attempts == 10, "max_restarts = 10 restarts, then the next failure gives up")
    }

    @Test("replicas: one process of several exits, only it is replaced")
    func replicas() throws {
        var machine = SupervisorMachine(
            members: [.init(name: "source", restart: .transient, isSource: true), .init(name: "parse", replicas: 3)],
            policy: .init(jitter: 0))
        #expect(spawns(machine.start(now: t0)) == ["parse", "parse", "parse", "source"])
        for pid: pid_t in [11, 12, 13] { _ = machine.spawned("parse", pid: pid, now: t0) }
        _ = machine.spawned("source", pid: 10, now: t0)
        let actions = machine.exited(pid: 12, status: .signaled(9), now: t0)
        #expect(spawns(machine.timerFired(try #require(timer(in: actions)).0, now: t0)) == ["parse"])
        #expect(machine.member(named: "parse")?.pids == [11, 13])
        // The drain waits for every replica of a member before the next.
        _ = machine.stopRequested(.control, now: t0)
        #expect(signals(machine.exited(pid: 10, status: .exited(0), now: t0)).map(\.0) == [[11, 13]])
        #expect(machine.exited(pid: 11, status: .exited(0), now: t0).isEmpty)
        #expect(machine.exited(pid: 13, status: .exited(0), now: t0) == [.finish(0)])
    }

    @Test("a process started while the pipeline drains is stopped in its turn; stop before start finishes at once")
    func spawnDuringDrain() {
        var machine = running()
        _ = machine.exited(pid: 102, status: .exited(1), now: t0)
        _ = machine.stopRequested(.control, now: t0)
        #expect(machine.spawned("parse", pid: 500, now: t0).isEmpty, "it waits behind the source and fetch")
        _ = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(signals(machine.exited(pid: 101, status: .exited(0), now: t0)).map(\.0) == [[500]])
        var idle = SupervisorMachine(members: Self.members)
        #expect(idle.stopRequested(.signal("SIGINT"), now: t0) == [.finish(0)])
    }
}
