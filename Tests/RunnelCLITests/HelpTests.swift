import Foundation
import Testing

/// `--help` is the manual most people read: every command's fits an 80-column terminal, its
/// paragraphs are wrapped by the parser (not broken where the source happened to end a line),
/// and its examples are not cut in two.
@Suite("Help that reads well")
struct HelpTests {
    static let commands: [String] = {
        let root = (try? RunnelProcess.execBlocking(RunnelProcess.runnel, ["--help"]).stdoutText) ?? ""
        var names: [String] = []
        var inList = false
        for line in root.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("SUBCOMMANDS:") {
                inList = true
            } else if inList, line.hasPrefix("  "), line.dropFirst(2).first?.isLetter == true,
                let name = line.split(separator: " ").first, !line.contains("'")
            {
                names.append(String(name))
            } else if inList, !line.isEmpty, !line.hasPrefix(" ") {
                inList = false
            }
        }
        return names
    }()

    @Test("the root help lists the commands")
    func listed() {
        for name in ["run", "fetch", "parse", "enrich", "store", "send", "recv", "call", "tap", "wrap", "replay", "health"] {
            #expect(Self.commands.contains(name), "\(name) missing from runnel --help")
        }
    }

    @Test("every command's help fits 80 columns, with no paragraph or example broken mid-line")
    func layout() async throws {
        for command in Self.commands {
            let help = try await RunnelProcess.run([command, "--help"])
            #expect(help.status == 0, "\(command) --help exits \(help.status)")
            let lines = help.stdoutText.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            for line in lines where line.count > 80 {
                Issue.record("runnel \(command) --help: a line of \(line.count) columns: \(line)")
            }
            let overviewEnd = lines.firstIndex { $0.hasPrefix("USAGE:") } ?? 0
            for (line, next) in zip(lines[..<overviewEnd], lines[1..<max(overviewEnd, 1)]) {
                let prose = !line.isEmpty && !line.hasPrefix(" ")
                let continues = !next.isEmpty && !next.hasPrefix(" ")
                // The parser fills a paragraph's lines to ~80 columns; a short one that the
                // paragraph goes on after was cut by a newline in the source.
                if prose && continues && line.count < 50 && !line.hasSuffix(":") {
                    Issue.record("runnel \(command) --help: a paragraph broken after \"\(line)\"")
                }
                // An example (indented) whose end spilled onto a line of its own.
                if line.hasPrefix("  ") && continues && next.count < 30 {
                    Issue.record("runnel \(command) --help: an example cut in two: \"\(line)\" / \"\(next)\"")
                }
            }
        }
    }
}
