import Foundation
import RunnelProtocol
import Testing

/// ``ArticleParsed/split(_:)`` reads a text's UTF-8 once. It must give the paragraphs that
/// splitting the String on the characters `"\n\n"` and trimming each part with Foundation gives
/// (what it replaced), whatever the text: `\r\n` is one character there, Unicode white space is
/// trimmed, and a combining mark after a newline stays with the paragraph.
@Suite("Paragraphs of an article's text")
struct ArticleParsedSplitTests {
    /// What the byte-level split replaced, kept as the reference.
    static func reference(_ text: String) -> [String] {
        text.split(separator: "\n\n", omittingEmptySubsequences: true)
            .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .filter { !$0.isEmpty }
    }

    static let pieces = [
        "a", "Việt", "λόγος", "ж", "😀", "\u{301}", " ", "\t", "\n", "\r", "\r\n", "\u{85}", "\u{A0}",
        "\u{2003}", "\u{3000}", "\u{2028}", "\u{B}", "\u{C}", "\u{200B}", "x y",
    ]

    @Test("named cases")
    func namedCases() {
        #expect(ArticleParsed.split("One.\n\nTwo.") == ["One.", "Two."])
        #expect(ArticleParsed.split("\n\n  One. \n\n\n\n Two.\n\n") == ["One.", "Two."])
        #expect(ArticleParsed.split("One.\r\n\nstill one.") == ["One.\r\n\nstill one."])
        #expect(ArticleParsed.split("One.\n\n\u{2003}Two.\u{A0}") == ["One.", "Two."])
        #expect(ArticleParsed.split("") == [])
        #expect(ArticleParsed.split(" \n\n \n\n") == [])
    }

    @Test("random texts: the paragraphs are the reference's")
    func randomTexts() {
        // A failing case prints its text, which is all it takes to make it a named case.
        for _ in 0..<5000 {
            let text = (0..<Int.random(in: 0..<30)).map { _ in Self.pieces.randomElement()! }.joined()
            #expect(ArticleParsed.split(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }
}
