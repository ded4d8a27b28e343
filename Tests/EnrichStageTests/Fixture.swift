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

extension Fixture {
    /// A plain-text fixture whose first line is the title and whose other blank-line separated
    /// blocks are the paragraphs.
    static func article(_ name: String, lang: String? = nil) throws -> ArticleParsed {
        let text = try text(name)
        let blocks = ArticleParsed.split(text)
        return ArticleParsed(
            url: "https://example.com/\(name)", title: blocks.first ?? "", lang: lang,
            paragraphs: Array(blocks.dropFirst()))
    }
}

/// The offset in Unicode scalars of the first occurrence of `needle` in `text`.
func scalarOffset(of needle: String, in text: String) -> Int? {
    guard let range = text.range(of: needle) else { return nil }
    return text.unicodeScalars.distance(from: text.unicodeScalars.startIndex, to: range.lowerBound)
}
