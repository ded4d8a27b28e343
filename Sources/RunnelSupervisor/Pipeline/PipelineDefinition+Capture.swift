import Foundation
import RunnelProtocol

extension PipelineDefinition {
    /// A link the supervisor captures: `capture = ["parse->enrich"]` at the top of the pipeline
    /// file (before the first `[table]`, as TOML requires of top-level keys). The last stage's
    /// outputs, which `runnel run` counts and keeps nowhere else, are the link `LAST->output`.
    ///
    /// The upstream stage writes its outputs as sent (`--capture-out`), or, when it is not a
    /// Runnel stage (it has a `command`), the downstream stage writes its inputs as received
    /// (`--capture-in`), to `.runnel/NAME/capture/FROM-TO.jsonl.zst` (files
    /// `FROM-TO.000001.jsonl.zst`, … and the index `FROM-TO.index.jsonl`).
    public struct Capture: Sendable, Equatable {
        /// The name of what the last stage sends to (the supervisor, which keeps nothing).
        public static let output = "output"

        public var from: String
        public var to: String
        public var line: Int

        /// `parse-enrich`: the log's name in the capture directory.
        public var name: String { "\(from)-\(to)" }

        /// Reads `capture = [...]`, noting each link that is not one of the pipeline's.
        static func read(from root: PipelineTOML.Table, stages: [Stage], reader: inout PipelineReader) -> [Capture] {
            guard let value = root["capture"] else { return [] }
            let line = root.line(of: "capture")
            let example = "as capture = [\"parse->enrich\"]"
            let items: [PipelineTOML.Value]
            switch value {
            case let .array(array): items = array
            case .string: items = [value]
            default:
                reader.problem(line, "capture", "expected an array of links, not \(value.kind)", fix: example)
                return []
            }
            let names = stages.map(\.name)
            let links = zip(names, names.dropFirst()).map { "\($0.0)->\($0.1)" } + names.suffix(1).map { "\($0)->\(output)" }
            var captures: [Capture] = []
            for item in items {
                guard case let .string(text) = item else {
                    reader.problem(line, "capture", "expected an array of strings, not one with \(item.kind) in it", fix: example)
                    continue
                }
                let parts = text.split(separator: "->", omittingEmptySubsequences: false).map {
                    $0.trimmingCharacters(in: .whitespaces)
                }
                guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                    reader.problem(line, "capture", "\"\(text)\" is not a link", fix: "write it as \"FROM->TO\", e.g. \"parse->enrich\"")
                    continue
                }
                if parts[1] == output && parts[0] == names.last && !names.contains(output) {
                    // The last stage's outputs: only a Runnel stage can capture what it writes.
                    guard stages[stages.count - 1].command == nil else {
                        reader.problem(
                            line, "capture",
                            "\"\(text)\": \(parts[0]) is not a Runnel stage (it has a command), so what it writes cannot be captured",
                            fix: "capture the link into it instead, or end the pipeline with a Runnel stage")
                        continue
                    }
                    let capture = Capture(from: parts[0], to: output, line: line)
                    if !captures.contains(capture) { captures.append(capture) }
                    continue
                }
                if let unknown = parts.enumerated().first(where: { !names.contains($0.element) && ($0.offset == 0 || $0.element != output) })?.element {
                    let fix = PipelineProblem.suggestion(for: unknown, among: names).map { "did you mean \"\($0)\"?" }
                    reader.problem(
                        line, "capture", "\"\(text)\": there is no stage named \"\(unknown)\" (stages: \(names.joined(separator: ", ")))",
                        fix: fix)
                    continue
                }
                guard let upstream = names.firstIndex(of: parts[0]), upstream + 1 < names.count, names[upstream + 1] == parts[1] else {
                    let next = names.firstIndex(of: parts[0]).flatMap { $0 + 1 < names.count ? names[$0 + 1] : nil } ?? output
                    reader.problem(
                        line, "capture", "\"\(text)\" is not a link of this pipeline: \(parts[0]) sends to \(next)",
                        fix: "links: \(links.joined(separator: ", "))")
                    continue
                }
                if stages[upstream].command != nil && stages[upstream + 1].command != nil {
                    reader.problem(
                        line, "capture",
                        "\"\(text)\": neither \(parts[0]) nor \(parts[1]) is a Runnel stage (both have a command), so neither can capture")
                    continue
                }
                let capture = Capture(from: parts[0], to: parts[1], line: line)
                if !captures.contains(capture) { captures.append(capture) }
            }
            return captures
        }
    }

    /// The capture flags for a stage: `--capture-out` on the upstream stage of a captured link
    /// (or `--capture-in` on the downstream one when the upstream is not a Runnel stage).
    public func captureArguments(for stage: Stage, directory: String) -> [String] {
        var arguments: [String] = []
        for capture in captures {
            let path = directory + "/" + capture.name + ".jsonl.zst"
            let upstreamIsRunnel = stages.first { $0.name == capture.from }?.command == nil
            if capture.from == stage.name && upstreamIsRunnel && stage.command == nil {
                arguments += ["--capture-out", path]
            } else if capture.to == stage.name && !upstreamIsRunnel && stage.command == nil {
                arguments += ["--capture-in", path]
            }
        }
        return arguments
    }
}
