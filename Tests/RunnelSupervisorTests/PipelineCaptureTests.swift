import RunnelProtocol
import Testing

@testable import RunnelSupervisor

@Suite("Pipeline files: capture")
struct PipelineCaptureTests {
    static func text(_ capture: String) -> String {
        """
        \(capture)

        [source]
        urls = "urls.txt"

        [[stage]]
        name = "fetch"

        [[stage]]
        name = "parse"

        [[stage]]
        name = "py"
        command = ["python3", "stage.py"]

        [[stage]]
        name = "store"
        """
    }

    @Test("a captured link makes the upstream stage capture its outputs, or the downstream its inputs")
    func arguments() throws {
        let definition = try PipelineDefinition(text: Self.text(#"capture = ["fetch->parse", "parse -> py", "py->store"]"#), file: "/p/x.toml")
        #expect(definition.captures.map(\.name) == ["fetch-parse", "parse-py", "py-store"])
        let stages = definition.stages
        #expect(definition.captureArguments(for: stages[0], directory: "/c") == ["--capture-out", "/c/fetch-parse.jsonl.zst"])
        #expect(definition.captureArguments(for: stages[1], directory: "/c") == ["--capture-out", "/c/parse-py.jsonl.zst"])
        #expect(definition.captureArguments(for: stages[2], directory: "/c") == [])
        #expect(definition.captureArguments(for: stages[3], directory: "/c") == ["--capture-in", "/c/py-store.jsonl.zst"])
    }

    @Test("the last stage's outputs are the link LAST->output; another stage's are not")
    func output() throws {
        let definition = try PipelineDefinition(text: Self.text(#"capture = ["store->output"]"#), file: "/p/x.toml")
        #expect(definition.captures.map(\.name) == ["store-output"])
        #expect(definition.captureArguments(for: definition.stages[3], directory: "/c") == ["--capture-out", "/c/store-output.jsonl.zst"])
        #expect(definition.stages.dropLast().allSatisfy { definition.captureArguments(for: $0, directory: "/c").isEmpty })
        #expect {
            _ = try PipelineDefinition(text: Self.text(#"capture = ["parse->output"]"#), file: "x.toml")
        } throws: { error in
            (error as? RunnelError)?.message.contains("is not a link of this pipeline: parse sends to py") == true
                && (error as? RunnelError)?.message.contains("store->output") == true
        }
        let commandLast = Self.text("capture = [\"py->output\"]").replacingOccurrences(of: "[[stage]]\nname = \"store\"", with: "")
        #expect {
            _ = try PipelineDefinition(text: commandLast, file: "x.toml")
        } throws: { error in
            (error as? RunnelError)?.message.contains("py is not a Runnel stage (it has a command), so what it writes cannot be captured") == true
        }
    }

    @Test("an unknown stage, a non-link and a malformed entry are errors with the line")
    func errors() {
        let cases = [
            (#"capture = ["parse->enrich"]"#, #"no stage named "enrich""#),
            (#"capture = ["fetch->store"]"#, "is not a link of this pipeline: fetch sends to parse"),
            (#"capture = ["fetch"]"#, "write it as \"FROM->TO\""),
            ("capture = 3", "expected an array of links"),
        ]
        for (line, message) in cases {
            #expect {
                _ = try PipelineDefinition(text: Self.text(line), file: "x.toml")
            } throws: { error in
                guard let error = error as? RunnelError else { return false }
                return error.code == .invalidArgument && error.message.contains("x.toml:1: key \"capture\"")
                    && error.message.contains(message)
            }
        }
    }
}
