import Foundation
import RunnelProtocol
import Testing

@testable import RunnelSupervisor

/// Each default of a pipeline file is written once, in `PipelineDefaults`, and shown from there.
@Suite("Pipeline defaults")
struct PipelineDefaultsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("the README shows PipelineDefaults.text as it is")
    func readme() throws {
        let readme = try String(contentsOf: Self.root.appendingPathComponent("README.md"), encoding: .utf8)
        #expect(readme.contains("```toml\n" + PipelineDefaults.text + "\n```"), "README.md's defaults block differs from:\n\(PipelineDefaults.text)")
    }

    @Test("the text reads back as the values it shows (apart from the placeholders)")
    func textReadsBack() throws {
        let placeholders = ["name =", "command =", "port ="]
        let lines = PipelineDefaults.text.split(separator: "\n").filter { line in !placeholders.contains { line.hasPrefix($0) } }
        let stage = lines.firstIndex(of: "[[stage]]") ?? lines.endIndex
        let text = lines[..<stage].joined(separator: "\n") + "\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n"
            + lines[stage...].dropFirst().joined(separator: "\n")
        let pipeline = try PipelineDefinition(text: text, file: "p.toml")
        let bare = try PipelineDefinition(text: "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n", file: "p.toml")
        #expect(pipeline.policy == bare.policy)
        #expect(pipeline.shutdownTimeout == bare.shutdownTimeout)
        #expect(pipeline.links == bare.links)
        #expect(pipeline.stages == bare.stages.map { var stage = $0; stage.line = pipeline.stages[0].line; return stage })
    }

    @Test("every line of the text fits a terminal's --help")
    func width() {
        for line in PipelineDefaults.text.split(separator: "\n") {
            #expect(line.count <= 76, "\(line)")
        }
    }
}
