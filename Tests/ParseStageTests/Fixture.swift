import Foundation
import ParseStage
import RunnelProtocol

/// Test inputs under `Fixtures/`, named after their case.
enum Fixture {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func text(_ name: String) throws -> String {
        try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
    }

    /// What the parse stage makes of `html`, fetched from `url` as `text/html`.
    static func parse(_ html: String, url: String) throws -> ArticleParsed {
        try ParseStage().parse(PageFetched(url: url, html: html))
    }

    /// The seed article's lines: title, lead, photo caption, body, and the boilerplate lists.
    struct Seed {
        let lines: [String]

        init() throws {
            lines = try Fixture.text("page.vi.seed.txt").split(separator: "\n").map {
                $0.trimmingCharacters(in: .whitespaces)
            }.filter { !$0.isEmpty }
        }

        var title: String { lines[0] }
        /// The lead and the six paragraphs after the photo, in order.
        var paragraphs: [String] { [lines[1]] + Array(lines[4...9]) }
        var caption: String { "Trụ sở NATO. Nguồn: nato.int" }

        func section(_ label: String, until next: String) -> [String] {
            let start = lines.firstIndex(of: label)! + 1
            let end = lines.firstIndex(of: next)!
            return Array(lines[start..<end])
        }

        var related: [String] { section("Tin bài liên quan", until: "Các tin bài khác") }
        /// Every headline of every list on the page.
        var listLines: [String] { Array(lines[(lines.firstIndex(of: "Tin bài liên quan")!)...]) }
    }
}
