import Foundation
import RunnelProtocol
import Testing

@testable import RunnelSupervisor

/// Pipeline files through TOMLKit: what they read into, and every kind of problem with its line.
@Suite("Pipeline files")
struct PipelineFileTests {
    /// `[source]` and one stage, after `head`, so a test's lines are easy to count.
    static func file(_ head: String, stage: String = "") -> String {
        "\(head)\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n\(stage)"
    }

    /// The problems `text` has, as `runnel check` prints them.
    static func problems(_ text: String) -> [String] {
        PipelineDefinition.read(text: text, file: "p.toml").problems.map(\.description)
    }

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
        #expect(pipeline.policy.jitter == 0.1)
        #expect(pipeline.policy.period == .seconds(20))
        #expect(pipeline.shutdownTimeout == .seconds(90))
        #expect(pipeline.warnings.isEmpty)
        #expect(pipeline.source == .urls("urls.txt"))
        #expect(pipeline.resolve("urls.txt") == "/srv/urls.txt")
        #expect(pipeline.stages.map(\.name) == ["fetch", "parse"])
        #expect(pipeline.stages[0].args == ["--allow-private", "--delay", "0s"])
        #expect(pipeline.stages[0].environment == ["A": "1"])
        #expect(pipeline.stages[0].line == 13)
        #expect(pipeline.stages[1].restart == .transient)
        #expect(pipeline.stages[1].replicas == 2)
        #expect(pipeline.stages[1].line == 19)
    }

    @Test("follow = true in [source]: read for a file or a directory, refused for stdin and for a non-boolean")
    func follow() throws {
        let directory = try PipelineDefinition(text: "[source]\ndirectory = \"pages\"\nfollow = true\n[[stage]]\nname = \"a\"", file: "/srv/p.toml")
        #expect(directory.follow)
        #expect(directory.source == .directory("pages"))
        #expect(try PipelineDefinition(text: Self.file(""), file: "/srv/p.toml").follow == false)
        let stdin = Self.problems("[source]\nurls = \"-\"\nfollow = true\n[[stage]]\nname = \"a\"")
        #expect(stdin.count == 1 && stdin[0].contains("p.toml:3") && stdin[0].contains("follow is for a file or a directory"), "\(stdin)")
        let word = Self.problems("[source]\nurls = \"u\"\nfollow = \"yes\"\n[[stage]]\nname = \"a\"")
        #expect(word.count == 1 && word[0].contains("expected true or false"), "\(word)")
    }

    @Test("what a file leaves out is PipelineDefaults'")
    func defaults() throws {
        let pipeline = try PipelineDefinition(text: Self.file(""), file: "/srv/minimal.toml")
        #expect(pipeline.name == "minimal")
        #expect(pipeline.policy == PipelineDefaults.policy)
        #expect(pipeline.policy == RestartPolicy.Configuration())
        #expect(pipeline.shutdownTimeout == PipelineDefaults.shutdownTimeout)
        #expect(pipeline.stages[0].restart == PipelineDefaults.restart)
        #expect(pipeline.stages[0].replicas == PipelineDefaults.replicas)
        #expect(pipeline.stages[0].command == nil)
        #expect(pipeline.stages[0].line == 4)
    }

    @Test("Examples/news.toml reads, and spells out the defaults' values")
    func example() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let pipeline = try PipelineDefinition(contentsOf: root.appendingPathComponent("Examples/news.toml").path)
        #expect(pipeline.stages.map(\.name) == ["fetch", "parse", "enrich", "store"])
        #expect(pipeline.policy == PipelineDefaults.policy)
        #expect(pipeline.shutdownTimeout == PipelineDefaults.shutdownTimeout)
        #expect(pipeline.source == .directory("pages"))
    }

    @Test(
        "lines stay right after multi-line strings, arrays and inline tables",
        arguments: [
            ("[[stage]]\nname = \"a\"\nargs = [\n  \"x\",\n  \"y\",\n]\nrestrat = 1\n", 7),
            ("[[stage]]\nname = \"a\"\nargs = \"\"\"\none\ntwo\n\"\"\"\nrestrat = 1\n", 7),
            ("[[stage]]\nname = \"a\"\nargs = '''\n[x]\n'''\nrestrat = 1\n", 6),
            ("[[stage]]\nname = \"a\"\n# restrat = 1 in a comment\nenv = { B = \"}#\" }\n\nrestrat = 1\n", 6),
            ("[[stage]]\nname = \"a\"\n[[stage]]\nname = \"b\"\n[[stage]]\n\"name\" = \"c\"\nrestrat = 1\n", 7),
        ])
    func linesAfterMultiLineValues(stages: String, line: Int) {
        let problems = Self.problems("[source]\nurls = \"u\"\n" + stages)
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first?.hasPrefix("p.toml:\(line + 2): key \"restrat\": unknown key in [[stage]]") == true, "\(problems)")
    }

    @Test(
        "deep nesting is refused with the line before TOMLKit sees it, not a crash",
        arguments: [
            Self.file("", stage: "args = " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)),
            Self.file("", stage: "args = " + String(repeating: "[", count: 100_000)),
            Self.file("", stage: "env = " + String(repeating: "{a=", count: 10_000) + "1" + String(repeating: "}", count: 10_000)),
            Self.file("", stage: Array(repeating: "k", count: 100_000).joined(separator: ".") + " = 1"),
            Self.file("", stage: "[" + Array(repeating: "k", count: 100_000).joined(separator: ".") + "]"),
            Self.file("", stage: "env = { " + Array(repeating: "k", count: 100_000).joined(separator: ".") + " = 1 }"),
        ])
    func deepNesting(text: String) {
        #expect {
            _ = try PipelineDefinition(text: text, file: "deep.toml")
        } throws: { error in
            guard let error = error as? RunnelError else { return false }
            return error.code == .invalidArgument && error.message.hasPrefix("deep.toml:6: ")
                && error.message.contains("nest more than \(PipelineDefaults.maxNesting) deep")
        }
    }

    @Test("a file of ordinary depth is not refused for nesting")
    func ordinaryNesting() throws {
        let pipeline = try PipelineDefinition(text: Self.file("", stage: "env.A = \"1\"\nargs = [\"--x\"]"), file: "p.toml")
        #expect(pipeline.stages[0].environment == ["A": "1"])
    }

    @Test("a NUL byte is refused with its line (TOMLKit would read a C string up to it)")
    func nulByte() {
        let problems = Self.problems(Self.file("", stage: "args = [\"a\u{0}b\"]"))
        #expect(problems == ["p.toml:6: a NUL byte (a pipeline file is text)"])
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
        #expect(pipeline.warnings.contains("p.toml:2: period_s = 20 is deprecated; write period = \"20s\""))
        #expect(pipeline.warnings.contains("p.toml:3: initial_ms = 50 is deprecated; write initial = \"50ms\""))
        #expect(pipeline.warnings.contains("p.toml:3: max_ms = 1500 is deprecated; write max = \"1500ms\""))
        #expect(pipeline.warnings.contains("p.toml:4: shutdown_timeout_s = 30 is deprecated; write shutdown_timeout = \"30s\""))
    }

    @Test(
        "every kind of problem names the file, the line and the key",
        arguments: [
            // TOML syntax, from TOMLKit's error position
            ("[source]\nurls = u\n", "p.toml:2: not a value: u (strings need quotes: \"u\")"),
            ("[source]\nurls = \"u\n", "p.toml:2: "),
            ("[source]\nurls = \"u\"\nurls = \"v\"\n", "p.toml:3: "),
            ("[pipeline]\n[pipeline]\n", "p.toml:2: "),
            // unknown keys, with a suggestion
            (file("", stage: "restrat = \"permanent\""), "p.toml:6: key \"restrat\": unknown key in [[stage]]; did you mean \"restart\"?"),
            (file("", stage: "strategy = \"one_for_all\""), "p.toml:6: key \"strategy\": unknown key in [[stage]]; strategy belongs in [pipeline]"),
            (file("[pipeline]\nmax_restart = 3"), "p.toml:2: key \"max_restart\": unknown key in [pipeline]; did you mean \"max_restarts\"?"),
            (file("[pipeline]\nbackoff = { inital = \"1s\" }"), "p.toml:2: key \"inital\": unknown key in backoff; did you mean \"initial\"?"),
            (file("[sources]\nurls = \"v\""), "p.toml:1: key \"sources\": unknown key in the top level; did you mean \"source\"?"),
            (file("[pipeline]\nzzz = 1"), "p.toml:2: key \"zzz\": unknown key in [pipeline]; known keys: name, strategy"),
            // wrong types
            (file("", stage: "args = [1, 2]"), "p.toml:6: key \"args\": expected an array of strings, not one with an integer in it"),
            (file("", stage: "replicas = \"2\""), "p.toml:6: key \"replicas\": expected an integer, not a string"),
            (file("[pipeline]\nperiod = 60"), "p.toml:2: key \"period\": expected a string (in quotes), not an integer"),
            (file("[pipeline]\nstarted = 1979-05-27"), "p.toml:2: key \"started\": unknown key"),
            (file("", stage: "env = { A = 1 }"), "p.toml:6: key \"env.A\": expected a string, not an integer; quote it"),
            (file("[tls]\nrequire_client_cert = \"yes\""), "p.toml:2: key \"require_client_cert\": expected true or false, not a string"),
            // bad values
            (file("[pipeline]\nstrategy = \"one_for_al\""), "p.toml:2: key \"strategy\": expected one of one_for_one, rest_for_one, one_for_all, not \"one_for_al\"; did you mean \"one_for_all\"?"),
            (file("", stage: "restart = \"sometimes\""), "p.toml:6: key \"restart\": expected one of permanent, transient, temporary"),
            (file("", stage: "replicas = 0"), "p.toml:6: key \"replicas\": must be at least 1, not 0"),
            (file("", stage: "port = 70000"), "p.toml:6: key \"port\": must be at most 65535, not 70000"),
            (file("[pipeline]\nmax_restarts = -1"), "p.toml:2: key \"max_restarts\": must be at least 0, not -1"),
            (file("[pipeline]\nperiod = \"soon\""), "p.toml:2: key \"period\": 'soon' is not a duration"),
            (file("[pipeline]\nperiod = \"1e300d\""), "p.toml:2: key \"period\""),
            (file("[pipeline]\nshutdown_timeout = \"10ms\""), "p.toml:2: key \"shutdown_timeout\": must be at least 1s, not 10ms"),
            (file("[pipeline]\nperiod = \"1m\"\nperiod_s = 60"), "p.toml:3: key \"period_s\": say period or period_s, not both"),
            (file("[pipeline]\nbackoff = { jitter = 2 }"), "p.toml:2: key \"jitter\": must be within 0.0…1.0, not 2.0"),
            (file("[pipeline]\nbackoff = { initial = \"10s\", max = \"1s\" }"), "p.toml:2: key \"backoff\": max (1s) is shorter than initial (10s)"),
            (file("[pipeline]\nname = \"a b\""), "p.toml:2: key \"name\": use letters, digits, - and _ only"),
            (file("", stage: "command = []"), "p.toml:6: key \"command\": must name a program"),
            (file("", stage: "[[stage]]\nname = \"a\""), "p.toml:7: key \"name\": stage \"a\" is defined twice"),
            (file("", stage: "[[stage]]\nargs = []"), "p.toml:6: key \"name\": every [[stage]] needs a name"),
            // missing tables
            ("[source]\nurls = \"u\"\n", "p.toml: no [[stage]] is defined"),
            ("[[stage]]\nname = \"a\"\n", "p.toml: [source] is missing"),
            ("[source]\n[[stage]]\nname = \"a\"\n", "p.toml:1: [source] needs urls = \"FILE\" or directory = \"DIR\""),
        ])
    func problemKinds(text: String, expected: String) {
        do {
            _ = try PipelineDefinition(text: text, file: "p.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("every problem is reported, in the order of the lines, not only the first")
    func allProblems() {
        let text = """
            [pipeline]
            strategy = "one_for_some"
            [source]
            urls = "u"
            [[stage]]
            name = "a"
            replicas = 0
            [[stage]]
            name = "b"
            restrat = "permanent"
            """
        let problems = Self.problems(text)
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.map { $0.prefix(10) } == ["p.toml:2: ", "p.toml:7: ", "p.toml:10:"])
        #expect {
            _ = try PipelineDefinition(text: text, file: "p.toml")
        } throws: { error in
            (error as? RunnelError)?.message.split(separator: "\n").count == 3
        }
    }

    @Test("a syntax error stops the reading: the TOML cannot be trusted past it")
    func syntaxStops() {
        let read = PipelineDefinition.read(text: "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\nreplicas = 0\nx = \n", file: "p.toml")
        #expect(read.definition == nil)
        #expect(read.problems.count == 1)
        #expect(read.problems.first?.line == 6)
    }

    @Test("did you mean: typos within a third of the word, swaps counted once")
    func suggestions() {
        #expect(PipelineProblem.suggestion(for: "restrat", among: PipelineDefinition.Keys.stage) == "restart")
        #expect(PipelineProblem.suggestion(for: "replica", among: PipelineDefinition.Keys.stage) == "replicas")
        #expect(PipelineProblem.suggestion(for: "comand", among: PipelineDefinition.Keys.stage) == "command")
        #expect(PipelineProblem.suggestion(for: "database", among: PipelineDefinition.Keys.stage) == nil)
        #expect(PipelineProblem.editDistance("ab", "ba", limit: 3) == 1)
    }
}
