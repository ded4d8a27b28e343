import Testing

@testable import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

/// The machine with durable links (`links = "nats://…"`): the source being done is not the end;
/// the queues being empty is.
@Suite("Supervisor machine with JetStream links")
struct SupervisorMachineDurableLinksTests {
    let t0 = ContinuousClock.now

    /// Started with source 100, fetch 101, store 102.
    func running() -> SupervisorMachine {
        var machine = SupervisorMachine(
            members: [.init(name: "source", restart: .transient, isSource: true), .init(name: "fetch"), .init(name: "store")],
            shutdownTimeout: .seconds(10), durableLinks: true)
        _ = machine.start(now: t0)
        for (offset, name) in ["source", "fetch", "store"].enumerated() { _ = machine.spawned(name, pid: pid_t(100 + offset), now: t0) }
        return machine
    }

    @Test("the source exiting 0 asks for the queues to be watched and stops nothing; empty queues drain from the first stage down")
    func drainsOnceTheQueuesAreEmpty() {
        var machine = running()
        let actions = machine.exited(pid: 100, status: .exited(0), now: t0)
        #expect(actions.contains(.watchQueues))
        #expect(!actions.contains { if case .signal = $0 { true } else { false } }, "\(actions)")
        #expect(!machine.isStopping)
        #expect(machine.member(named: "source")?.state == .done)
        // A stage killed meanwhile is restarted as ever.
        let restart = machine.exited(pid: 101, status: .signaled(9), now: t0)
        #expect(restart.contains { if case .schedule = $0 { true } else { false } }, "\(restart)")
        _ = machine.spawned("fetch", pid: 201, now: t0)
        let drain = machine.queuesEmpty(now: t0)
        #expect(drain.contains(.signal([201], SIGTERM)), "\(drain)")
        #expect(machine.isStopping)
        #expect(machine.queuesEmpty(now: t0).isEmpty, "a second report changes nothing")
        _ = machine.exited(pid: 201, status: .exited(0), now: t0)
        #expect(machine.exited(pid: 102, status: .exited(0), now: t0) == [.finish(0)])
    }

    @Test("a stop while the queues are watched drains at once; the queues' report after it is ignored")
    func stopWhileWatching() {
        var machine = running()
        _ = machine.exited(pid: 100, status: .exited(0), now: t0)
        let stop = machine.stopRequested(.control, now: t0)
        #expect(stop.contains(.signal([101], SIGTERM)), "\(stop)")
        #expect(machine.queuesEmpty(now: t0).isEmpty)
    }
}
