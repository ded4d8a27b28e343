import Foundation
import RunnelProtocol
import Testing

/// `--log-level` and `--log-format` on the real binary: what reaches stderr, in which form.
@Suite("Logs: --log-level, --log-format json, NO_COLOR")
struct LogFormatTests {
    /// A line parse cannot read (a warning on stderr), then nothing else.
    static let badLine = Data("this is not JSON\n".utf8)

    /// Runs `runnel ARGS` with `environment` over the test's own.
    static func run(_ arguments: [String], stdin: Data = badLine, environment: [String: String] = [:]) async throws -> RunnelProcess.Result {
        try await RunnelProcess.exec(
            RunnelProcess.runnel, arguments, stdin: stdin,
            environment: ["RUNNEL_LOG_LEVEL": "", "RUNNEL_LOG_FORMAT": ""].merging(environment) { $1 })
    }

    /// Each stderr line as a JSON object, or `nil` for a line that is not one.
    static func objects(_ stderr: String) -> [[String: JSONValue]?] {
        stderr.split(separator: "\n").map { try? JSONDecoder().decode([String: JSONValue].self, from: Data($0.utf8)) }
    }

    @Test("parse --log-format json --log-level debug: every stderr line is a JSON object with ts, level, stage")
    func json() async throws {
        let result = try await Self.run(["parse", "--log-format", "json", "--log-level", "debug", "-v"])
        #expect(result.status == 0, "\(result.stderr)")
        let objects = Self.objects(result.stderr)
        #expect(objects.count >= 3, "a debug line, the bad line's warning and the summary: \(result.stderr)")
        for (line, object) in zip(result.stderrLines, objects) {
            guard let object else {
                Issue.record("not a JSON object: \(line)")
                continue
            }
            #expect(object["stage"] == .string("parse"), "\(line)")
            #expect(object["label"] != nil && object["message"] != nil, "\(line)")
            guard case let .string(ts)? = object["ts"] else {
                Issue.record("no ts: \(line)")
                continue
            }
            #expect(Timestamp.parse(ts) != nil, "\(line)")
        }
        let levels = objects.compactMap { $0?["level"] }
        #expect(levels.contains(.string("debug")), "\(result.stderr)")
        #expect(levels.contains(.string("info")), "\(result.stderr)")
        let warning = objects.compactMap { $0 }.first { $0["level"] == .string("warning") }
        guard case let .string(message)? = warning?["message"] else {
            Issue.record("no warning for the bad line: \(result.stderr)")
            return
        }
        #expect(message.hasPrefix("INVALID_ARGUMENT: line 1"), "\(message)")
        #expect(!result.stderr.contains("\u{1B}"))
    }

    @Test("RUNNEL_PIPELINE puts the pipeline on every line")
    func pipeline() async throws {
        let result = try await Self.run(["parse", "-v"], environment: ["RUNNEL_LOG_FORMAT": "json", "RUNNEL_PIPELINE": "news"])
        let objects = Self.objects(result.stderr)
        #expect(!objects.isEmpty && objects.allSatisfy { $0?["pipeline"] == .string("news") }, "\(result.stderr)")
    }

    @Test("text keeps `runnel parse: …`; the default level shows info, --log-level error hides it, the flag wins over RUNNEL_LOG_LEVEL")
    func levels() async throws {
        let shown = try await Self.run(["parse", "-v"])
        #expect(shown.stderr.contains("runnel parse: warning: INVALID_ARGUMENT: line 1"), "\(shown.stderr)")
        #expect(shown.stderr.contains("runnel parse: 0 in, 0 out, 1 failed"), "the summary, at info: \(shown.stderr)")

        let errorsOnly = try await Self.run(["parse", "-v", "--log-level", "error"])
        #expect(errorsOnly.status == 0)
        #expect(errorsOnly.stderr.isEmpty, "\(errorsOnly.stderr)")
        #expect(!errorsOnly.stdoutText.isEmpty, "the error record still goes downstream")

        let fromEnvironment = try await Self.run(["parse", "-v"], environment: ["RUNNEL_LOG_LEVEL": "warning"])
        #expect(fromEnvironment.stderr.contains("warning: INVALID_ARGUMENT"), "\(fromEnvironment.stderr)")
        #expect(!fromEnvironment.stderr.contains(" in, "), "\(fromEnvironment.stderr)")

        let flagWins = try await Self.run(["parse", "-v", "--log-level=info"], environment: ["RUNNEL_LOG_LEVEL": "critical"])
        #expect(flagWins.stderr.contains("runnel parse: 0 in, 0 out, 1 failed"), "\(flagWins.stderr)")
    }

    @Test("a command that is not a stage takes the flags too, before or after its name")
    func anyCommand() async throws {
        let missing = try await Self.run(["--log-format=json", "cat", "missing.jsonl"], stdin: Data())
        #expect(missing.status == 74, "\(missing.stderr)")
        let objects = Self.objects(missing.stderr)
        #expect(objects.count == 1 && objects[0]?["level"] == .string("error"), "\(missing.stderr)")
        #expect(objects.first??["stage"] == .string("cat"), "\(missing.stderr)")
        #expect(objects.first??["code"] == .string("NOT_FOUND"), "\(missing.stderr)")

        let text = try await Self.run(["cat", "missing.jsonl", "--log-level", "debug"], stdin: Data())
        #expect(text.stderr.contains("runnel: missing.jsonl: NOT_FOUND"), "an error that ends a command reads as before: \(text.stderr)")
    }

    @Test("an unknown level or format is refused with the values it takes, exit 64")
    func refused() async throws {
        let level = try await Self.run(["parse", "--log-level", "loud"], stdin: Data())
        #expect(level.status == 64)
        #expect(level.stderr.contains("INVALID_ARGUMENT: --log-level loud: the levels are trace, debug, info"), "\(level.stderr)")
        let format = try await Self.run(["cat"], stdin: Data(), environment: ["RUNNEL_LOG_FORMAT": "xml"])
        #expect(format.status == 64)
        #expect(format.stderr.contains("RUNNEL_LOG_FORMAT xml"), "\(format.stderr)")

        // With json, the parser's own refusal is one JSON line, with the parser's status.
        let unknown = try await Self.run(["parse", "--no-such-flag", "--log-format", "json"], stdin: Data())
        #expect(unknown.status == 64)
        let objects = Self.objects(unknown.stderr)
        #expect(objects.count == 1 && objects.first??["level"] == .string("error"), "\(unknown.stderr)")
        #expect(unknown.stderr.contains("--no-such-flag"), "\(unknown.stderr)")
    }

    @Test("on a terminal the level is coloured; NO_COLOR=1 and a pipe are plain")
    func colour() async throws {
        // script(1) gives the command a terminal for stdout and stderr, and copies what it wrote.
        let command = "printf 'this is not JSON\\n' | \"$RUNNEL\" parse --to file:/dev/null"
        func onTerminal(_ noColour: String) async throws -> String {
            let result = try await RunnelProcess.exec(
                "/usr/bin/script", ["-qec", command, "/dev/null"],
                environment: ["RUNNEL": RunnelProcess.runnel, "NO_COLOR": noColour, "TERM": "xterm", "RUNNEL_LOG_FORMAT": ""])
            return result.stdoutText
        }
        let coloured = try await onTerminal("")
        #expect(coloured.contains("runnel parse: \u{1B}[33mwarning\u{1B}[0m: INVALID_ARGUMENT"), "\(coloured.debugDescription)")
        let plain = try await onTerminal("1")
        #expect(plain.contains("runnel parse: warning: INVALID_ARGUMENT"), "\(plain.debugDescription)")
        #expect(!plain.contains("\u{1B}"), "\(plain.debugDescription)")
        let piped = try await Self.run(["parse"])
        #expect(piped.stderr.contains("warning: INVALID_ARGUMENT") && !piped.stderr.contains("\u{1B}"), "\(piped.stderr)")
    }

    @Test("--help shows the flags: a stage's in its Observability group, and runnel --help for every command")
    func help() async throws {
        let stage = try await Self.run(["parse", "--help"], stdin: Data())
        #expect(stage.stdoutText.contains("--log-level <level>"), "\(stage.stdoutText)")
        #expect(stage.stdoutText.contains("--log-format <format>"))
        let root = try await Self.run(["--help"], stdin: Data())
        #expect(root.stdoutText.contains("--log-format text|json"), "\(root.stdoutText)")
        #expect(root.stdoutText.contains("NO_COLOR"))
    }
}
