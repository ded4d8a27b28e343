import Testing

@testable import ParseStage

@Suite("Whitespace collapsing on bytes")
struct CollapsingWhitespaceTests {
    /// The definition: every run of White_Space (or U+200B) scalars is one space, ends trimmed;
    /// soft hyphens, word joiners and BOMs are left out.
    static func reference(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var pendingSpace = false
        for scalar in text.unicodeScalars where !["\u{AD}", "\u{2060}", "\u{FEFF}"].contains(scalar) {
            if scalar.properties.isWhitespace || scalar == "\u{200B}" {
                pendingSpace = !result.isEmpty
            } else {
                if pendingSpace { result.append(" ") }
                pendingSpace = false
                result.append(scalar)
            }
        }
        return String(result)
    }

    @Test("every whitespace code point, and its neighbours in UTF-8")
    func everyCodePoint() {
        for value in UInt32(0)...0x3100 {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = "a\(Character(scalar))b \(Character(scalar))"
            #expect(text.collapsingWhitespace() == Self.reference(text), "U+\(String(value, radix: 16))")
        }
    }

    @Test("mixed text, invisible characters", arguments: ["", " ", "  a  ", "a\u{00A0}\u{2003}b", "\u{3000}中文\u{200B}字", "x\u{1C}y", "Đọc\r\n\tthêm ", "😀 \u{205F}😀", "Wäh\u{AD}rend", "\u{FEFF}Tin\u{2060}tức \u{AD}"])
    func mixed(text: String) {
        #expect(text.collapsingWhitespace() == Self.reference(text))
    }
}
