import Foundation
import Testing

/// `runnel check` on the real binary: the examples pass, broken files exit 78 naming the line.
@Suite("runnel check")
struct CheckCommandTests {
    /// Writes `text` as `name` in a new directory (with an empty pages/ and urls.txt beside it).
    static func write(_ text: String, as name: String = "p.toml") throws -> URL {
        let dir = try RunnelProcess.temporaryDirectory()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pages"), withIntermediateDirectories: true)
        try "".write(to: dir.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        return dir
    }

    @Test("every pipeline in Examples/ passes, with a one-line summary", .timeLimit(.minutes(2)))
    func examples() async throws {
        let examples = RunnelProcess.packageRoot.appendingPathComponent("Examples")
        let files = try FileManager.default.contentsOfDirectory(atPath: examples.path).filter { $0.hasSuffix(".toml") }.sorted()
        #expect(!files.isEmpty)
        for file in files {
            let result = try await RunnelProcess.run(["check", file], in: examples)
            #expect(result.status == 0, "\(file): \(result.stderr)")
            #expect(result.stdoutLines.count == 1, "\(result.stdoutText)")
            #expect(result.stdoutText.hasSuffix("types match\n"), "\(result.stdoutText)")
        }
        let news = try await RunnelProcess.run(["check", "Examples/news.toml"], in: RunnelProcess.packageRoot)
        #expect(news.stdoutText == "Examples/news.toml: 4 stages, fetch → parse → enrich → store, types match\n", "\(news.stderr)")
    }

    /// `runnel check <(make-pipeline)` read `/dev/fd/63` as "cannot read the pipeline file"
    /// (Foundation's whole-file read takes regular files only), and /dev/null the same.
    @Test("a pipeline file from a pipe is read, its paths taken from the current directory; /dev/null is an empty file", .timeLimit(.minutes(1)))
    func pipelineFromAPipe() async throws {
        let examples = RunnelProcess.packageRoot.appendingPathComponent("Examples")
        let piped = try await RunnelProcess.shell(#"cat news.toml | "$RUNNEL" check /dev/stdin"#, in: examples)
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(piped.stdoutText == "/dev/stdin: 4 stages, fetch → parse → enrich → store, types match\n", "\(piped.stderr)")

        let empty = try await RunnelProcess.run(["check", "/dev/null"])
        #expect(empty.status == 78, "\(empty.stderr)")
        #expect(empty.stderr.contains("/dev/null: [source] is missing"), "\(empty.stderr)")
    }

    @Test("a broken file: exit 78, every problem as FILE:LINE with its fix, nothing started", .timeLimit(.minutes(1)))
    func broken() async throws {
        let text = """
            [pipeline]
            strategy = "one_for_al"

            [source]
            directory = "pages"

            [[stage]]
            name = "fetch"
            restrat = "permanent"

            [[stage]]
            name = "prase"
            """
        let dir = try Self.write(text)
        let result = try await RunnelProcess.run(["check", "p.toml"], in: dir)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stdoutText.isEmpty)
        let lines = result.stderrLines
        #expect(lines.count == 4, "\(result.stderr)")
        #expect(lines[0] == "p.toml:2: key \"strategy\": expected one of one_for_one, rest_for_one, one_for_all, not \"one_for_al\"; did you mean \"one_for_all\"?")
        #expect(lines[1] == "p.toml:9: key \"restrat\": unknown key in [[stage]]; did you mean \"restart\"?")
        #expect(lines[2].hasPrefix("p.toml:11: stage \"prase\" is not a runnel stage"), "\(lines[2])")
        #expect(lines[2].contains("did you mean \"parse\"?"))
        #expect(lines[3] == "p.toml: 3 problems")
    }

    @Test("neighbours whose types do not match: exit 78, both stages named at the line, and the fix", .timeLimit(.minutes(1)))
    func typeMismatch() async throws {
        let dir = try Self.write("[source]\ndirectory = \"pages\"\n\n[[stage]]\nname = \"fetch\"\n\n[[stage]]\nname = \"store\"\n")
        let result = try await RunnelProcess.run(["check", "p.toml"], in: dir)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("p.toml:7: fetch emits page.fetched but store accepts only"), "\(result.stderr)")
        #expect(result.stderr.contains("insert a stage between them"), "\(result.stderr)")
    }

    @Test("a misspelt flag in a stage's args: the stage's own complaint, at the line, with where its options are listed", .timeLimit(.minutes(1)))
    func misspeltFlag() async throws {
        let dir = try Self.write("[source]\ndirectory = \"pages\"\n\n[[stage]]\nname = \"fetch\"\nargs = [\"--dealy\", \"0s\"]\n")
        let result = try await RunnelProcess.run(["check", "p.toml"], in: dir)
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("p.toml:4: stage fetch refused its arguments: Unknown option '--dealy'. Did you mean '--delay'?"), "\(result.stderr)")
        #expect(result.stderr.contains("runnel fetch --help lists what it takes"), "\(result.stderr)")
    }

    @Test("a command that is not a Runnel stage: its status and stderr are shown, and a silent one is killed in time", .timeLimit(.minutes(1)))
    func notAStage() async throws {
        let text = """
            [source]
            urls = "urls.txt"

            [[stage]]
            name = "py"
            command = ["sh", "-c", "echo 'ModuleNotFoundError: zstandard' >&2; exit 3"]

            [[stage]]
            name = "silent"
            command = ["sh", "-c", "sleep 60"]

            [[stage]]
            name = "gone"
            command = ["no-such-program-runnel-test"]
            """
        let dir = try Self.write(text)
        let started = ContinuousClock.now
        let result = try await RunnelProcess.run(["check", "p.toml", "--timeout", "500ms"], in: dir)
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("p.toml:4: stage py did not describe itself"), "\(result.stderr)")
        #expect(result.stderr.contains("ended with exit status 3"), "\(result.stderr)")
        #expect(result.stderr.contains("\n    ModuleNotFoundError: zstandard\n"), "\(result.stderr)")
        #expect(result.stderr.contains("p.toml:8: stage silent did not describe itself within 500ms"), "\(result.stderr)")
        #expect(result.stderr.contains("p.toml:12: stage gone: command not found: no-such-program-runnel-test"), "\(result.stderr)")
    }

    @Test("TOML syntax: the line from TOMLKit; a missing file: 74")
    func syntaxAndMissing() async throws {
        let dir = try Self.write("[source]\nurls = urls.txt\n[[stage]]\nname = \"parse\"\n")
        let result = try await RunnelProcess.run(["check", "p.toml"], in: dir)
        #expect(result.status == 78)
        #expect(result.stderrLines.first == "p.toml:2: not a value: urls.txt (strings need quotes: \"urls.txt\")", "\(result.stderr)")
        let missing = try await RunnelProcess.run(["check", "absent.toml"], in: dir)
        #expect(missing.status == 74, "\(missing.stderr)")
    }

    @Test("--help shows the defaults PipelineDefaults holds")
    func help() async throws {
        let result = try await RunnelProcess.run(["check", "--help"])
        #expect(result.status == 0)
        for line in ["strategy = \"one_for_one\"", "max_restarts = 10", "period = \"1m\"", "shutdown_timeout = \"30s\"", "replicas = 1"] {
            #expect(result.stdoutText.contains(line), "\(line) not in \(result.stdoutText)")
        }
    }
}

extension CheckCommandTests {
    @Test("a built-in stage is asked with --describe before its args, so wrap's -- COMMAND works", .timeLimit(.minutes(1)))
    func wrapArguments() async throws {
        let dir = try Self.write("[source]\nurls = \"urls.txt\"\n[[stage]]\nname = \"fetch\"\n[[stage]]\nname = \"wrap\"\nargs = [\"--\", \"cat\"]\n")
        let result = try await RunnelProcess.run(["check", "p.toml"], in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutText == "p.toml: 2 stages, fetch → wrap, types match\n")
    }
}

extension CheckCommandTests {
    @Test("with --log-format json each problem is a JSON line with its file, line and fix")
    func jsonProblems() async throws {
        let dir = try Self.write("[source]\nurls = \"urls.txt\"\n[[stage]]\nname = \"fetch\"\nrestrat = \"permanent\"\n")
        let result = try await RunnelProcess.run(["check", "p.toml", "--log-format", "json"], in: dir)
        #expect(result.status == 78, "\(result.stderr)")
        let objects = result.stderrLines.compactMap { try? JSONDecoder().decode([String: String].self, from: Data($0.utf8)) }
        let problem = try #require(objects.first { $0["line"] != nil }, "\(result.stderr)")
        #expect(problem["file"] == "p.toml")
        #expect(problem["line"] == "5")
        #expect(problem["message"] == "key \"restrat\": unknown key in [[stage]]")
        #expect(problem["fix"] == "did you mean \"restart\"?")
    }
}
