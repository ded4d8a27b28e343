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
}
