import Foundation
import Testing

@testable import ParseStage

/// ``Walker/appendText(_:_:)`` reads eight bytes at a time where they are all whitespace or
/// plain words, and byte by byte otherwise. Text handed over one character at a time never takes
/// the eight-byte path (a character is at most four bytes), so it is the oracle: the same text
/// handed over whole must leave the same buffer, counts and state.
@Suite("The walker's text, eight bytes at a time")
struct WalkerTextTests {
    /// Pieces that take each path and each boundary between them: words, single and double
    /// spaces, indentation, commas (ASCII, fullwidth, ideographic), NBSP, zero-width spaces,
    /// soft hyphens, word joiners, BOMs, control bytes, other scripts.
    static let pieces = [
        "a", "word", "longerword", " ", "  ", "\n        ", "\t", "\r\n", "\u{0C}", ",", "，", "、", "\u{A0}", "\u{200B}", "\u{200C}",
        "\u{200D}", "\u{AD}", "\u{2060}", "\u{FEFF}", "é", "ệ", "한", "😀", "x,y", "The quick brown fox", "~!@#$%^&*()", "\u{7F}", "\u{01}",
    ]

    struct State: Equatable {
        var buffer: [UInt8]
        var length, linkLength, commas: Int32
        var lastWasSpace: Bool
    }

    static func state(after chunks: [[UInt8]], inLink: Bool, startsAfterText: Bool) -> State {
        var walker = Walker(baseURL: "https://news.example/")
        walker.linkDepth = inLink ? 1 : 0
        if startsAfterText {
            walker.buffer = Array("before".utf8)
            walker.lastWasSpace = false
        }
        for chunk in chunks {
            chunk.withUnsafeBufferPointer { walker.appendText($0.baseAddress!, $0.count) }
        }
        return State(
            buffer: walker.buffer, length: walker.bufferLength, linkLength: walker.bufferLinkLength,
            commas: walker.bufferCommas, lastWasSpace: walker.lastWasSpace)
    }

    @Test("random texts: whole, the same as one character at a time")
    func randomTexts() {
        var generator = SystemRandomNumberGenerator()
        for trial in 0..<3000 {
            let text = (0..<Int.random(in: 1..<30, using: &generator)).map { _ in Self.pieces.randomElement(using: &generator)! }.joined()
            let inLink = trial % 3 == 0
            let afterText = trial % 2 == 0
            let whole = Self.state(after: [Array(text.utf8)], inLink: inLink, startsAfterText: afterText)
            let byCharacter = Self.state(after: text.unicodeScalars.map { Array(String($0).utf8) }, inLink: inLink, startsAfterText: afterText)
            #expect(whole == byCharacter, "\(Array(text.utf8))")
        }
    }

    @Test("indentation collapses to one space, and a line of words keeps its bytes")
    func namedCases() {
        let indented = Self.state(after: [Array("word\n                \tnext".utf8)], inLink: false, startsAfterText: false)
        #expect(indented.buffer == Array("word next".utf8))
        #expect(indented.length == 9)
        let words = Self.state(after: [Array("one, two, three, four".utf8)], inLink: true, startsAfterText: false)
        #expect(words.buffer == Array("one, two, three, four".utf8))
        #expect(words.length == 21 && words.linkLength == 21 && words.commas == 3)
    }

    @Test("soft hyphens, zero-width spaces and BOMs are not in the text: a word is one word to a search")
    func invisibleCharacters() throws {
        let hyphenated = Self.state(after: [Array("Wäh\u{AD}rend Sie \u{FEFF}über den Markt\u{200B}".utf8)], inLink: false, startsAfterText: false)
        #expect(String(decoding: hyphenated.buffer, as: UTF8.self) == "Während Sie über den Markt")
        #expect(hyphenated.length == 26)
        let article = try Fixture.parse(
            """
            <html><head><title>Histo&shy;rischer Markt</title></head><body><article><h1>Histo&shy;rischer Markt</h1>
            <p>Wäh&shy;rend Sie über den Markt schlen&shy;dern, stau&shy;nen und aller&shy;lei feine Köst&shy;lich&shy;kei&shy;ten pro&shy;bie&shy;ren,
            sind Ihre Kin&shy;der begeistert beim Körbe flech&shy;ten, bas&shy;teln oder Spiele von anno dazu&shy;mal.</p>
            </article></body></html>
            """, url: "https://wehranlage.example/veranstaltung/887/")
        #expect(article.title == "Historischer Markt")
        #expect(article.text.contains("Während Sie über den Markt schlendern, staunen und allerlei feine Köstlichkeiten probieren"), "\(article.text)")
        #expect(!article.text.unicodeScalars.contains("\u{AD}"))
    }
}
