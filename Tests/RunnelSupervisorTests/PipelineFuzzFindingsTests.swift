import Testing

@testable import RunnelSupervisor

/// Pipeline files `Scripts/fuzz pipeline-file` found, each kept as a regression test
/// (RELIABILITY.md, "Fuzzing").
@Suite("Pipeline file: fuzzer findings")
struct PipelineFuzzFindingsTests {
    /// toml++ aborted the process (an assertion in parse_key) on a table header whose name starts
    /// with a non-ASCII character (the fuzzer met it as U+FFFD from an invalid UTF-8 byte), then
    /// with `=` (`[[ = "fetch"`); any byte but a bare-key character, a quote or `]` does it.
    @Test("a table header starting with a non-ASCII character or punctuation is a syntax error at its line, not an abort", arguments: [
        "[é]", "[[é]]", "[ é ]", "[[ \u{FFFD}stage]]", "\t[é.x]", "[[ = \"fetch\"", "[.]", "[=]", "[[ [", "[#]", "[{]", "[", "[[ ", "[[\rstage]]", "[\r\n",
    ])
    func nonASCIITableName(header: String) {
        let text = "[source]\nurls = \"u.txt\"\n\(header)\nname = \"parse\"\n"
        let (definition, problems) = PipelineDefinition.read(text: text, file: "p.toml")
        #expect(definition == nil)
        #expect(problems.count == 1)
        #expect(problems.first?.line == 3)
        #expect(problems.first.map { "\($0)" }?.contains("ASCII") == true)
    }

    @Test("a bad table header on the first line after a byte-order mark is a syntax error, not an abort")
    func afterByteOrderMark() {
        let (definition, problems) = PipelineDefinition.read(text: "\u{FEFF}[# ipeline]\nname = \"x\"\n", file: "p.toml")
        #expect(definition == nil)
        #expect(problems.first?.line == 1, "\(problems)")
        let (good, none) = PipelineDefinition.read(text: "\u{FEFF}[source]\nurls = \"u.txt\"\n[[stage]]\nname = \"relay\"\n", file: "p.toml")
        #expect(good != nil && none.isEmpty, "a byte-order mark before a good file is fine: \(none)")
    }

    @Test("a lone [ at the end of the file is a syntax error, not an abort")
    func loneBracketAtEnd() {
        let (definition, problems) = PipelineDefinition.read(text: "[source]\nurls = \"u.txt\"\n[", file: "p.toml")
        #expect(definition == nil)
        #expect(problems.first?.line == 3)
    }

    @Test("quoted non-ASCII table names and keys elsewhere still read")
    func quotedNamesStillRead() {
        let text = "[source]\nurls = \"u.txt\"\n[[stage]]\nname = \"parse\"\nenv = { \"é\" = \"1\" }\n[\"é\"]\n[ 'x' ]\n[[stage]]\nname = \"store\"\n"
        let (definition, problems) = PipelineDefinition.read(text: text, file: "p.toml")
        #expect(definition != nil)
        #expect(!problems.contains { "\($0)".contains("ASCII") })
    }

    /// toml++ failed a second assertion, in parse_value (`!is_value_terminator`), on an array
    /// closed by the wrong bracket: the scanner before it now refuses every text whose structure
    /// it cannot follow, so toml++ only sees well-formed structure (RELIABILITY.md, "Fuzzing").
    @Test("malformed structure is a syntax error at its line, never an abort", arguments: [
        ("args = [\"--db\", }", 6, "expected a value, not '}'"),
        ("args = [\"--db\" }", 6, "expected , or ]"),
        ("args = [,]", 6, "expected a value"),
        ("args = [\"a\",\n  \"b\"", 8, "expected , or ] in the array opened on line 6, not '['"),
        ("env = { A = \"1\" ]", 6, "expected , or }"),
        ("env = { A = \"1\", }", 6, "expected a key"),
        ("env = { A }", 6, "expected = after the key A"),
        ("args = ]", 6, "expected a value"),
        ("args =", 6, "missing"),
        ("args = [\"a\"] x", 6, "end of the line"),
        ("name2 \"x\"", 6, "expected = after the key name2"),
        ("= \"x\"", 6, "expected a key"),
        ("args = \"\"\"a\n\n", 6, "not closed"),
        ("args = 'a", 6, "not closed"),
        ("args = [[\"a\"], }", 6, "expected a value, not '}'"),
        ("[x] y = 1", 6, "end of the line"),
        ("args = {{}}", 6, "expected a key"),
    ])
    func malformedStructure(line: String, at expectedLine: Int, says: String) {
        let text = "[source]\nurls = \"u.txt\"\n[[stage]]\nname = \"parse\"\n# the line under test:\n\(line)\n[[stage]]\nname = \"store\"\n"
        let (definition, problems) = PipelineDefinition.read(text: text, file: "p.toml")
        #expect(definition == nil)
        #expect(problems.count == 1)
        #expect(problems.first?.line == expectedLine, "\(problems)")
        #expect(problems.first.map { "\($0)" }?.contains(says) == true, "\(problems)")
    }

    @Test("an array or inline table the file ends inside is a syntax error at the line that opened it", arguments: [
        "args = [\"a\",\n\"b\",\n", "args = [\n", "env = { A = \"1\",", "env = {",
    ])
    func unclosedAtEnd(tail: String) {
        let (definition, problems) = PipelineDefinition.read(text: "[source]\nurls = \"u.txt\"\n[[stage]]\nname = \"a\"\n\(tail)", file: "p.toml")
        #expect(definition == nil)
        #expect(problems.first?.line == 5, "\(problems)")
        #expect(problems.first.map { "\($0)" }?.contains("not closed") == true, "\(problems)")
    }

    @Test("well-formed TOML of every shape still reads through the scanner")
    func wellFormedShapes() {
        let text = """
            \u{FEFF}# a pipeline
            [source]   # where the URLs are
            urls = "u.txt"
            [pipeline]
            name = 'p-1'
            [[stage]]
            name = "parse"
            args = [
              "--a", # a comment in an array
              '--b',
              \"\"\"--c\"\"\",
            ]
            env = { "X" = "1", Y = '2', Z = \"\"\"3\"\"\" }
            [[stage]]
            name = "store"
            args = ["--db",
                    "x.sqlite"]   # trailing comment
            """
        let (definition, problems) = PipelineDefinition.read(text: text, file: "p.toml")
        #expect(definition != nil, "\(problems)")
        #expect(problems.isEmpty, "\(problems)")
        #expect(definition?.stages.first?.args == ["--a", "--b", "--c"])
        #expect(definition?.stages.last?.args == ["--db", "x.sqlite"])
    }

    @Test("a date and time joined by a space is one value: its key's problem is its meaning, not the syntax")
    func dateWithSpace() {
        let text = "[source]\nurls = \"u.txt\"\n[pipeline]\nstarted = 1979-05-27 07:32:00\n[[stage]]\nname = \"a\"\n"
        let (_, problems) = PipelineDefinition.read(text: text, file: "p.toml")
        #expect(problems.count == 1, "\(problems)")
        #expect(problems.first.map { "\($0)" }?.contains("unknown key") == true, "\(problems)")
    }
}
