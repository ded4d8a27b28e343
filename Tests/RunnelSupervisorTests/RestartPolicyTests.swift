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

@Suite("Pipeline files")
struct PipelineFileTests {
    @Test("a full file reads into stages, source and policy")
    func full() throws {
        let text = """
            # the news pipeline
            [pipeline]
            name = "news"
            strategy = "rest_for_one"
            max_restarts = 4
            period = "20s"
            backoff = { initial = "50ms", max = "1s", jitter = 0.1 }
            shutdown_timeout = "1m30s"

            [source]
            urls = "urls.txt"

            [[stage]]
            name = "fetch"
            args = ["--allow-private",
                    "--delay", "0s"]   # multi-line array
            env = { A = "1" }

            [[stage]]
            name = 'parse'
            restart = "transient"
            replicas = 2
            """
        let pipeline = try PipelineDefinition(text: text, file: "/srv/news.toml")
        #expect(pipeline.name == "news")
        #expect(pipeline.policy.strategy == .restForOne)
        #expect(pipeline.policy.maxRestarts == 4)
        #expect(pipeline.policy.maxBackoff == .seconds(1))
        #expect(pipeline.policy.initialBackoff == .milliseconds(50))
        #expect(pipeline.policy.period == .seconds(20))
        #expect(pipeline.shutdownTimeout == .seconds(90))
        #expect(pipeline.warnings.isEmpty)
        #expect(pipeline.source == .urls("urls.txt"))
        #expect(pipeline.resolve("urls.txt") == "/srv/urls.txt")
        #expect(pipeline.stages.map(\.name) == ["fetch", "parse"])
        #expect(pipeline.stages[0].args == ["--allow-private", "--delay", "0s"])
        #expect(pipeline.stages[0].environment == ["A": "1"])
        #expect(pipeline.stages[1].restart == .transient)
        #expect(pipeline.stages[1].replicas == 2)
        #expect(pipeline.stages[1].line == 19)
    }

    @Test("deep nesting is refused with the line, not a crash", arguments: [
        "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nargs = " + String(repeating: "[", count: 100_000),
        "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nenv = " + String(repeating: "{a=", count: 100_000),
        "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n" + Array(repeating: "k", count: 100_000).joined(separator: ".") + " = 1",
    ])
    func deepNesting(text: String) {
        #expect {
            _ = try PipelineDefinition(text: text, file: "deep.toml")
        } throws: { error in
            guard let error = error as? RunnelError else { return false }
            return error.message.contains("line 5") && (error.message.contains("nest more than 32") || error.message.contains("more than 32 parts"))
        }
    }

    @Test("the keys with the unit in their name still read, each with a warning naming the new spelling")
    func legacyDurations() throws {
        let text = """
            [pipeline]
            period_s = 20
            backoff = { initial_ms = 50, max_ms = 1500 }
            shutdown_timeout_s = 30
            [source]
            urls = "u"
            [[stage]]
            name = "a"
            """
        let pipeline = try PipelineDefinition(text: text, file: "p.toml")
        #expect(pipeline.policy.period == .seconds(20))
        #expect(pipeline.policy.initialBackoff == .milliseconds(50))
        #expect(pipeline.policy.maxBackoff == .milliseconds(1500))
        #expect(pipeline.shutdownTimeout == .seconds(30))
        #expect(pipeline.warnings.count == 4)
        #expect(pipeline.warnings.contains("p.toml line 2: period_s = 20 is deprecated; write period = \"20s\""))
        #expect(pipeline.warnings.contains("p.toml line 3: max_ms = 1500 is deprecated; write max = \"1500ms\""))
    }

    @Test(
        "errors name the line and the key",
        arguments: [
            ("[pipeline]\nstrategy = \"one_for_some\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "line 2: key \"strategy\""),
            ("[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nrestrat = \"permanent\"", "line 5: key \"restrat\": unknown key"),
            ("[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nreplicas = 0", "line 5: key \"replicas\": must be at least 1"),
            ("[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n[[stage]]\nname = \"a\"", "line 6: key \"name\": stage \"a\" is defined twice"),
            ("[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nargs = [1, 2]", "line 5: key \"args\": expected an array of strings"),
            ("[source]\nurls = u\n", "line 2: not a value: u (strings need quotes)"),
            ("[source]\nurls = \"u\n", "line 2: unterminated string"),
            ("[source]\nurls = \"u\"\n", "no [[stage]] is defined"),
            ("[[stage]]\nname = \"a\"\n", "[source] is missing"),
            ("[pipeline]\nperiod = \"soon\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "line 2: key \"period\": 'soon' is not a duration"),
            ("[pipeline]\nperiod = 60\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "line 2: key \"period\": expected a string"),
            ("[pipeline]\nperiod = \"1e300d\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "line 2: key \"period\""),
            ("[pipeline]\nperiod = \"1m\"\nperiod_s = 60\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "key \"period_s\": say period or period_s, not both"),
            ("[pipeline]\nshutdown_timeout = \"10ms\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"", "must be at least 1s"),
        ])
    func errors(text: String, expected: String) {
        do {
            _ = try PipelineDefinition(text: text, file: "p.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}

import RunnelProtocol
