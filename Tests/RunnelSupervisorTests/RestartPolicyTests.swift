import Testing
import RunnelTransport

@testable import RunnelSupervisor

@Suite("Restart policy (pure state machine)")
struct RestartPolicyTests {
    let order = ["source", "fetch", "parse", "store"]

    @Test("one_for_one restarts only the stage, with backoff doubling per consecutive failure")
    func oneForOne() {
        var policy = RestartPolicy(configuration: .init(initialBackoff: .milliseconds(100), maxBackoff: .milliseconds(350), jitter: 0))
        let now = ContinuousClock.now
        #expect(policy.exited("parse", status: .signaled(9), order: order, now: now) == .restart(["parse"], after: .milliseconds(100)))
        #expect(policy.exited("parse", status: .exited(1), order: order, now: now) == .restart(["parse"], after: .milliseconds(200)))
        #expect(policy.exited("parse", status: .exited(1), order: order, now: now) == .restart(["parse"], after: .milliseconds(350)))
        policy.stayedUp("parse")
        #expect(policy.exited("parse", status: .exited(1), order: order, now: now) == .restart(["parse"], after: .milliseconds(100)))
    }

    @Test("rest_for_one restarts the stage and every stage after it; one_for_all restarts all")
    func strategies() {
        var rest = RestartPolicy(configuration: .init(strategy: .restForOne, jitter: 0))
        guard case let .restart(names, _) = rest.exited("fetch", status: .signaled(9), order: order, now: .now) else {
            Issue.record("expected a restart")
            return
        }
        #expect(names == ["fetch", "parse", "store"])
        var all = RestartPolicy(configuration: .init(strategy: .oneForAll, jitter: 0))
        guard case let .restart(every, _) = all.exited("parse", status: .signaled(9), order: order, now: .now) else {
            Issue.record("expected a restart")
            return
        }
        #expect(every == ["parse", "source", "fetch", "store"])
    }

    @Test("past the intensity within the period the supervisor gives up, naming the stage and its status")
    func intensity() {
        var policy = RestartPolicy(configuration: .init(maxRestarts: 2, period: .seconds(10), jitter: 0))
        let start = ContinuousClock.now
        #expect(policy.exited("store", status: .exited(3), order: order, now: start) != .leaveDown)
        #expect(policy.exited("store", status: .exited(3), order: order, now: start + .seconds(1)) != .leaveDown)
        guard case let .giveUp(reason) = policy.exited("store", status: .exited(3), order: order, now: start + .seconds(2)) else {
            Issue.record("expected to give up")
            return
        }
        #expect(reason.contains("store"))
        #expect(reason.contains("exit status 3"))
        // Restarts older than the period no longer count.
        var later = RestartPolicy(configuration: .init(maxRestarts: 2, period: .seconds(10), jitter: 0))
        for k in 0..<5 {
            #expect(later.exited("store", status: .exited(3), order: order, now: start + .seconds(20 * k)) != .giveUp(""))
        }
    }

    @Test("progress between restarts (a stage that fails now and then) starts the count over, and the backoff")
    func progressedRestarts() {
        var policy = RestartPolicy(configuration: .init(maxRestarts: 2, period: .seconds(60), initialBackoff: .milliseconds(100), jitter: 0))
        let start = ContinuousClock.now
        #expect(policy.exited("parse", status: .exited(3), order: order, now: start) == .restart(["parse"], after: .milliseconds(100)))
        #expect(policy.exited("parse", status: .exited(3), order: order, now: start) == .restart(["parse"], after: .milliseconds(200)))
        for k in 1...20 {
            // Work came out before each of these, and one more restart after it: a poison
            // message now and then, each costing its stage two crashes in a row.
            #expect(policy.exited("parse", status: .exited(3), order: order, now: start + .seconds(k), progressed: true) == .restart(["parse"], after: .milliseconds(100)))
            #expect(policy.exited("parse", status: .exited(3), order: order, now: start + .seconds(k)) == .restart(["parse"], after: .milliseconds(200)))
        }
        // Nothing out since: a third restart in a row is one too many.
        guard case .giveUp = policy.exited("parse", status: .exited(3), order: order, now: start + .seconds(30)) else {
            Issue.record("a crash loop without progress still gives up")
            return
        }
    }

    @Test("temporary stages stay down; transient ones restart only after an abnormal exit")
    func restartTypes() {
        var policy = RestartPolicy()
        #expect(policy.exited("x", status: .signaled(9), type: .temporary, order: order, now: .now) == .leaveDown)
        #expect(policy.exited("x", status: .exited(0), type: .transient, order: order, now: .now) == .leaveDown)
        #expect(policy.exited("x", status: .exited(2), type: .transient, order: order, now: .now) != .leaveDown)
    }

    @Test("jitter spreads the delay within its fraction")
    func jitter() {
        var policy = RestartPolicy(configuration: .init(initialBackoff: .milliseconds(100), jitter: 0.5))
        #expect(policy.exited("a", status: .exited(1), order: ["a"], now: .now, jitter: 1) == .restart(["a"], after: .milliseconds(150)))
        #expect(policy.exited("b", status: .exited(1), order: ["b"], now: .now, jitter: -1) == .restart(["b"], after: .milliseconds(50)))
    }

    @Test("wait statuses decode without the C macros")
    func waitStatus() {
        #expect(ChildProcess.decode(3 << 8) == .exited(3))
        #expect(ChildProcess.decode(9) == .signaled(9))
        #expect(ChildProcess.decode(0) == .exited(0))
        #expect(RestartPolicy.ExitStatus.signaled(9).description == "killed by signal 9 (SIGKILL)")
    }
}
