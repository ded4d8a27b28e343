import Foundation
import RunnelProtocol

/// The test fixtures, as parsed articles.
enum Fixture {
    /// The raw text of a fixture file.
    static func text(_ name: String) throws -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures") else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: name])
        }
        return try String(contentsOf: url, encoding: .utf8)
    }

    /// The seed page as the parse stage would give it: the first line is the title, the body
    /// paragraphs run until the "Tin bài liên quan" boilerplate; image markup lines are left out.
    static func natoArticle() throws -> ArticleParsed {
        let lines = try text("page.vi.nato-spokesperson.txt").split(separator: "\n").map(String.init)
        let title = lines[0]
        var paragraphs: [String] = []
        for line in lines.dropFirst() {
            if line == "Tin bài liên quan" { break }
            if line.hasPrefix("![") || line.hasPrefix("|") || line.trimmingCharacters(in: .whitespaces).isEmpty {
                continue
            }
            paragraphs.append(line)
        }
        return ArticleParsed(
            url: "https://example.vn/nato-phan-ung", title: title, lang: "vi", paragraphs: paragraphs,
            images: [.init(src: "https://example.vn/nato.jpg", caption: "Trụ sở NATO. Nguồn: nato.int")])
    }
}
