import Testing

@testable import ParseStage

/// The counts behind the wrong-charset check (`ParseStage.characterCounts`), read sixteen bytes
/// at a time by `runnel_text_count_run` and eight or one at a time by Swift, held to a byte loop
/// that says what they mean.
@Suite("Characters and bad characters counted for the charset check")
struct CharacterCountTests {
    /// Pieces whose bytes test each rule: `н` ends in BD as U+FFFD does, `ž` in BE; tab, line
    /// feed and carriage return are control bytes that are not bad; DEL is not a control byte here.
    static let pieces = ["a", "н", "\u{FFFD}", "\u{1}", "\u{1F}", "\t", "\n", "\r", "中", "é", "\u{7F}", "ž", "𝄞", " <p>"]

    /// What the counts mean, one byte at a time over the whole text.
    static func reference(_ bytes: [UInt8]) -> (total: Int, bad: Int) {
        var total = 0
        var bad = 0
        for (index, byte) in bytes.enumerated() {
            if byte & 0xC0 != 0x80 { total += 1 }
            if byte < 0x20 && byte != 0x09 && byte != 0x0A && byte != 0x0D { bad += 1 }
            if byte == 0xBD && index >= 2 && bytes[index - 1] == 0xBF && bytes[index - 2] == 0xEF { bad += 1 }
        }
        return (total, bad)
    }

    static func counts(_ text: String) -> (total: Int, bad: Int) {
        Array(text.utf8).withUnsafeBufferPointer { ParseStage.characterCounts($0) }
    }

    @Test("texts of every mix of the pieces, at every alignment: the counts the byte loop gives")
    func mixes() {
        // A fixed linear congruential sequence: the same texts on every run.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33) % bound
        }
        for _ in 0..<400 {
            var text = ""
            for _ in 0..<next(400) { text += Self.pieces[next(Self.pieces.count)] }
            let bytes = Array(text.utf8)
            let (total, bad) = Self.counts(text)
            let expected = Self.reference(bytes)
            #expect(total == expected.total && bad == expected.bad, "\(bytes.count) bytes: \(total), \(bad) against \(expected)")
        }
    }

    @Test("a U+FFFD across a sixteen-byte block's edge is counted once, wherever it falls")
    func replacementAcrossBlocks() {
        for offset in 0..<40 {
            let text = String(repeating: "a", count: offset) + "\u{FFFD}" + String(repeating: "b", count: 40)
            #expect(Self.counts(text) == (offset + 41, 1), "offset \(offset)")
        }
    }

    @Test("only about the first 65,536 characters are read")
    func limit() {
        let plain = Self.counts(String(repeating: "a", count: 100_000))
        #expect(plain.total >= 65536 && plain.total < 65536 + 16 && plain.bad == 0)
        let controls = Self.counts(String(repeating: "\u{1}", count: 100_000))
        #expect(controls.total >= 65536 && controls.total < 65536 + 16 && controls.bad == controls.total)
        let cyrillic = Self.counts(String(repeating: "н", count: 100_000))
        #expect(cyrillic.total >= 65536 && cyrillic.total < 65536 + 16 && cyrillic.bad == 0)
    }
}
