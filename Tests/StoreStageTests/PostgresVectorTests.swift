import RunnelProtocol
@testable import StoreStage
import Testing

/// ``PostgresTextSearch/vector(title:text:)`` works on bytes; the rule it follows, written
/// plainly here over ``TextFolding/terms(_:)``, must give the same literal.
@Suite struct PostgresVectorTests {
    /// The vector as the rule states it: every folded word of the title (weight A) then of the
    /// text, numbered from 1 (at most 16383), words over 2046 bytes left out, each lexeme's first
    /// 256 positions, lexemes in byte order, quotes and backslashes doubled.
    static func reference(title: String, text: String) -> String {
        var positions: [[UInt8]: [String]] = [:]
        var position = 0
        for (words, weight) in [(TextFolding.terms(title), "A"), (TextFolding.terms(text), "")] {
            for word in words {
                position = min(position + 1, 16383)
                guard word.utf8.count <= 2046 else { continue }
                let key = Array(word.utf8)
                if positions[key, default: []].count < 256 { positions[key, default: []].append("\(position)\(weight)") }
            }
        }
        return positions.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { key in
            let quoted = String(decoding: key, as: UTF8.self).replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "'", with: "''")
            return "'\(quoted)':" + positions[key]!.joined(separator: ",")
        }.joined(separator: " ")
    }

    static let pieces = [
        "Phái bộ", "ngoại giao", "Nga", "tại", "NATO", "Matxcơva", "Đà Nẵng", "ĐẠI HỌC", "it's", "back\\slash", "O'Brien",
        "e\u{0301}", "\u{0301}", "Ǆ", "ǅ", "İstanbul", "ß", "Ω", "Ⅻ", "²", "½", "©", "…", "—", "«", "»", "\u{00A0}",
        "東京", "서울", "मराठी", "ไทย", "😀", "🇻🇳", "a1b2", "2021-10-19", "x_y", "\t", "\n", ".", ",", "  ", "Ꞵ", "Ａ", "ﬁ",
    ]

    @Test("the literal is the rule's, on mixed scripts, marks, quotes and punctuation")
    func sameAsReference() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<300 {
            let count = Int.random(in: 0...60, using: &generator)
            let words = (0..<count).map { _ in Self.pieces.randomElement(using: &generator)! }
            let separator = round % 3 == 0 ? "" : " "
            let title = words.prefix(5).joined(separator: separator)
            let text = words.dropFirst(5).joined(separator: separator)
            #expect(PostgresTextSearch.vector(title: title, text: text) == Self.reference(title: title, text: text), "\(title) | \(text)")
        }
    }

    @Test("a combining mark with no letter before it is no word: no empty lexeme, which PostgreSQL refuses, and no empty search term")
    func loneMarks() throws {
        for text in ["\u{0301}", " \u{0301}", "◌\u{0301} x", "a \u{0301}\u{0302} b", "x\n\u{0301}"] {
            let vector = PostgresTextSearch.vector(title: text, text: text)
            #expect(!vector.contains("''"), "\(vector)")
            #expect(!TextFolding.terms(text).contains(""), "\(TextFolding.terms(text))")
        }
        #expect(PostgresTextSearch.vector(title: "", text: "a \u{0301} b") == "'a':1 'b':2")
        let query = try SearchQuery("phai \u{0301}")
        #expect(query.terms.count == 1, "the mark alone is no term: \(query.terms)")
    }

    @Test("the limits: 256 positions a lexeme, position 16383, words over 2046 bytes")
    func limits() {
        let repeated = Array(repeating: "tin", count: 300).joined(separator: " ")
        let many = (0..<17_000).map { "w\($0 % 50)" }.joined(separator: " ")
        let long = String(repeating: "a", count: 2047) + " ngắn " + String(repeating: "b", count: 2046)
        for (title, text) in [("", repeated), ("Tin", many), ("", long), ("", "")] {
            let vector = PostgresTextSearch.vector(title: title, text: text)
            #expect(vector == Self.reference(title: title, text: text))
        }
        #expect(PostgresTextSearch.vector(title: "", text: "").isEmpty)
        #expect(PostgresTextSearch.vector(title: "", text: repeated).split(separator: ",").count == 256)
    }
}
