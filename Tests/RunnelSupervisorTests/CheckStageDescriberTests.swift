import Foundation
import RunnelProtocol
import Testing

@testable import RunnelSupervisor

/// `StageDescriber` against fake stages: shell commands that answer `--describe` well or badly.
@Suite("Stage describer")
struct CheckStageDescriberTests {
    /// A stage that prints a service definition accepting `accepts` and emitting `emits`.
    static func fake(_ name: String, accepts: [String], emits: [String]) -> String {
        let service = ServiceDefinition(name: name, summary: "a fake", accepts: accepts, emits: emits)
        let json = String(decoding: try! JSONEncoder().encode(service), as: UTF8.self)
        return "printf '%s' '\(json)'"
    }

    /// A pipeline whose stages are the shell scripts given, one per stage, named s1, s2, ….
    static func pipeline(_ scripts: [String]) throws -> PipelineDefinition {
        var text = "[source]\nurls = \"u\"\n"
        for (n, script) in scripts.enumerated() {
            let quoted = script.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
                .replacingOccurrences(of: "\n", with: "\\n")
            text += "[[stage]]\nname = \"s\(n + 1)\"\ncommand = [\"sh\", \"-c\", \"\(quoted)\"]\n"
        }
        return try PipelineDefinition(text: text, file: "p.toml")
    }

    static let describer = StageDescriber(runnel: "/nonexistent/runnel", timeout: .seconds(10))

    @Test("stages whose types match describe themselves, with no problem")
    func matching() throws {
        let definition = try Self.pipeline([
            Self.fake("a", accepts: [MessageType.urlRequested], emits: ["x.made"]),
            Self.fake("b", accepts: ["x.made"], emits: ["y.made"]),
        ])
        let services = try Self.describer.check(definition)
        #expect(services.map(\.name) == ["a", "b"])
    }

    @Test("a type the next stage does not accept is a problem at that stage's line, with the fix")
    func mismatch() throws {
        let definition = try Self.pipeline([
            Self.fake("a", accepts: [MessageType.urlRequested], emits: ["x.made", MessageType.error]),
            Self.fake("b", accepts: ["y.made"], emits: ["z.made"]),
            Self.fake("c", accepts: ["*"], emits: ["z.made"]),
        ])
        let problems = Self.describer.problems(in: definition).problems
        #expect(problems.map(\.description) == [
            "p.toml:6: s1 emits x.made but s2 accepts only y.made; insert a stage between them that turns x.made into y.made, or change s2"
        ])
        #expect(problems.first?.kind == .types)
        #expect(throws: RunnelError.self) { try Self.describer.check(definition) }
    }

    @Test("the first stage must accept what the source emits")
    func source() throws {
        let definition = try Self.pipeline([Self.fake("a", accepts: ["page.fetched"], emits: [])])
        let problems = Self.describer.problems(in: definition).problems
        #expect(problems.first?.message == "the source emits url.requested but s1 accepts only page.fetched", "\(problems)")
    }

    @Test("a command that prints something else than a service definition")
    func notJSON() throws {
        let problems = Self.describer.problems(in: try Self.pipeline(["echo not json"])).problems
        #expect(problems.count == 1)
        #expect(
            problems.first?.description.hasPrefix(
                "p.toml:3: stage s1 did not describe itself: sh -c 'echo not json' --describe printed no service definition on stdout and ended with exit status 0; is it a Runnel stage?"
            ) == true, "\(problems)")
    }

    @Test("a command that fails shows its exit status and the first lines of its stderr")
    func failing() throws {
        let script = "echo 'Traceback (most recent call last):' >&2; for i in 1 2 3 4 5 6 7 8; do echo \"line $i\" >&2; done; exit 3"
        let problems = Self.describer.problems(in: try Self.pipeline([script])).problems
        #expect(problems.count == 1)
        let problem = try #require(problems.first)
        #expect(problem.kind == .command)
        #expect(problem.message.hasSuffix("printed nothing on stdout and ended with exit status 3"), "\(problem)")
        #expect(problem.details.first == "Traceback (most recent call last):")
        #expect(problem.details.count == StageDescriber.errorLines + 1)
        #expect(problem.details.last == "…")
        #expect(problem.description.contains("\n    line 1\n"), "\(problem)")
    }

    @Test("a command that does not answer is killed at the deadline, its process group with it", .timeLimit(.minutes(1)))
    func silent() throws {
        let describer = StageDescriber(runnel: "/nonexistent/runnel", timeout: .milliseconds(300))
        let marker = "runnel-describer-\(UUID().uuidString.prefix(8))"
        // The shell starts another (marked) shell, which starts sleep: all of them must go.
        let definition = try Self.pipeline([
            "echo starting >&2; sh -c 'sleep 30; exit 0 # \(marker)'; exit 0", Self.fake("b", accepts: ["*"], emits: []),
        ])
        let started = ContinuousClock.now
        let (services, problems) = describer.problems(in: definition)
        #expect(ContinuousClock.now - started < .seconds(10))
        #expect(problems.count == 1)
        #expect(problems.first?.message.hasPrefix("stage s1 did not describe itself within 300ms") == true, "\(problems)")
        #expect(problems.first?.details == ["starting"])
        #expect(services[1]?.name == "b", "the other stage answered in the same deadline")
        let ps = Process()
        ps.executableURL = URL(fileURLWithPath: "/usr/bin/pgrep")
        ps.arguments = ["-f", marker]
        ps.standardOutput = FileHandle.nullDevice
        try ps.run()
        ps.waitUntilExit()
        #expect(ps.terminationStatus == 1, "a process of the killed stage is still running")
    }

    @Test("a command not on PATH and a built-in name runnel does not have are found without running anything")
    func missing() throws {
        let text = """
            [source]
            urls = "u"
            [[stage]]
            name = "prase"
            [[stage]]
            name = "py"
            command = ["no-such-program-runnel-test", "stage.py"]
            [[stage]]
            name = "local"
            command = ["./no-such-script"]
            """
        let definition = try PipelineDefinition(text: text, file: "p.toml")
        let describer = StageDescriber(runnel: "/nonexistent/runnel", builtInStages: ["fetch", "parse", "store"])
        let problems = describer.problems(in: definition).problems.map(\.description)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems[0].hasPrefix("p.toml:3: stage \"prase\" is not a runnel stage (runnel's are fetch, parse, store); did you mean \"parse\"?"))
        #expect(problems[1] == "p.toml:5: stage py: command not found: no-such-program-runnel-test (not in PATH); install it, or give its path in command")
        #expect(problems[2].hasPrefix("p.toml:8: stage local: cannot run ./no-such-script: No such file or directory"))
    }
}
