import Foundation
import RunnelProtocol
import Testing

/// ``JSONScanner/scanString()`` reads sixteen bytes at a time (`runnel_json_string_run`) and
/// looks only at the bytes that need it (a quote, a backslash, a control character, non-ASCII),
/// stepping over an escape or a character inside the block it loaded. These cases put each such
/// byte at every position of a block and across its end, after runs of plain bytes of every
/// length, and hold the scanner to Foundation's `JSONSerialization` on whether the string is valid
/// and to the string's own end.
@Suite("JSON strings scanned sixteen bytes at a time")
struct JSONScannerStringTests {
    /// What can follow a run of plain bytes: valid escapes and text, and the invalid bytes.
    static let pieces: [[UInt8]] = [
        Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\n"#.utf8), Array(#"\u00e9"#.utf8),
        Array("é".utf8), Array("ệ".utf8), Array("😀".utf8),
        [0x01], [0x1F], [0xFF], [0xC3], [0xED, 0xA0, 0x80],  // a control, broken and surrogate UTF-8
        Array(#"\x"#.utf8), [0x7F], [0x20],
    ]

    @Test("every byte that needs a look, at every position: the verdict and the end are Foundation's")
    func everyPosition() throws {
        var checked = 0
        for piece in Self.pieces {
            for before in 0..<70 {
                for after in [0, 1, 7, 8, 9, 15, 16, 17] {
                    Self.expectFoundationsVerdict(
                        on: Array(repeating: UInt8(ascii: "a"), count: before) + piece
                            + Array(repeating: UInt8(ascii: "b"), count: after))
                    checked += 1
                }
            }
        }
        #expect(checked == Self.pieces.count * 70 * 8)
    }

    /// Runs of backslashes decide which quote ends a string (`\\"` ends it, `\\\"` does not).
    /// The scan tells odd runs from even ones 64 bytes at a time, with a carry into the next
    /// block; these runs end at every position around a block's end, followed by a quote, an
    /// escape letter and a letter that is none.
    @Test("runs of backslashes of every length ending around a 64-byte block's end: Foundation's verdict and end")
    func backslashRuns() throws {
        var rejected = 0
        for run in 1...7 {
            for end in 56..<72 {
                for next in [UInt8(ascii: "\""), UInt8(ascii: "n"), UInt8(ascii: "x")] {
                    let before = Array(repeating: UInt8(ascii: "a"), count: max(0, end - run))
                    let inside = before + Array(repeating: UInt8(ascii: "\\"), count: run) + [next] + Array("tail".utf8)
                    guard next == UInt8(ascii: "\""), run % 2 == 0 else {
                        if !Self.expectFoundationsVerdict(on: inside) { rejected += 1 }
                        continue
                    }
                    // An even run escapes itself: the quote after it ends the string there.
                    let line = [UInt8(ascii: "\"")] + inside + [UInt8(ascii: "\"")]
                    let scanned: Range<Int>? = line.withUnsafeBufferPointer { buffer in
                        var scanner = JSONScanner(buffer)
                        return try? scanner.scanString()
                    }
                    #expect(scanned == 0..<(before.count + run + 2), "run \(run), end \(end)")
                }
            }
        }
        #expect(rejected == 4 * 16)  // odd runs before the letter that is no escape
    }

    /// Non-ASCII text is read sixteen bytes at a time and plain ASCII 64 at a time; the scan
    /// goes back to 64 after two plain blocks in a row. Here Vietnamese text is followed by plain
    /// ASCII of every length up to 100 bytes, and then by each byte that needs a look.
    @Test("from text in another script back to plain ASCII, then a byte that needs a look at every offset")
    func backToASCII() throws {
        let vietnamese = Array("Người dân Đà Nẵng đón năm mới ".utf8)
        var checked = 0
        for piece in Self.pieces {
            for plain in 0..<100 {
                Self.expectFoundationsVerdict(
                    on: vietnamese + Array(repeating: UInt8(ascii: "p"), count: plain) + piece + vietnamese)
                checked += 1
            }
        }
        #expect(checked == Self.pieces.count * 100)
    }

    /// Text of many scripts, and the escapes of an HTML page, each stepped over inside the block
    /// it starts in, also when it ends in the next. These pieces are the well-formed sequences
    /// (the first 16) and the malformed ones the scan must stop at: overlong forms (C0, C1, E0
    /// before 80–9F), surrogates (ED before A0–BF), lone and missing continuations, leads that
    /// cannot start anything.
    static let utf8Pieces: [[UInt8]] = [
        Array("a".utf8), Array(" ".utf8), Array("é".utf8), Array("λ".utf8), Array("ж".utf8),
        Array("ệ".utf8), Array("ठ".utf8), Array("한".utf8), Array("힣".utf8), Array("퟿".utf8), Array("ࠀ".utf8),
        Array("😀".utf8), Array(#"\n"#.utf8), Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\u00e9"#.utf8),
        [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
        [0x80], [0xBF], [0xC3], [0xE1, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x1F],
    ]

    @Test("random runs of text in many scripts, well-formed and not: the verdict and the end are Foundation's")
    func randomScripts() throws {
        // A failing case prints its bytes, which is all it takes to make it a fixed case.
        var rejected = 0
        for trial in 0..<4000 {
            // Mostly well-formed runs (the first 16 pieces), some with one bad piece.
            let length = Int.random(in: 0..<80)
            var inside: [UInt8] = []
            for _ in 0..<length {
                inside += Self.utf8Pieces[Int.random(in: 0..<16)]
            }
            if trial % 3 == 0 {
                let bad = Self.utf8Pieces[Int.random(in: 16..<Self.utf8Pieces.count)]
                inside.insert(contentsOf: bad, at: Int.random(in: 0...inside.count))
            }
            if !Self.expectFoundationsVerdict(on: inside) { rejected += 1 }
        }
        #expect(rejected > 1000)  // a third of the trials hold a bad piece
    }

    /// Text in other scripts is checked 64 bytes at a time as well, a character that crosses a
    /// block's end carried into the next block. Here runs of two-, three- and four-byte characters
    /// put a character across every block end, and each piece (well-formed or not) at every
    /// offset of the first three blocks, with more text after it.
    @Test("text in other scripts 64 bytes at a time: characters across every block end, each piece at every offset")
    func scriptsAcrossBlocks() throws {
        var checked = 0
        var rejected = 0
        // Two, three and four bytes; ठ (E0) and 힣 (ED) narrow the byte after them.
        for character in ["λ", "ệ", "ठ", "힣", "😀"].map({ Array($0.utf8) }) {
            for shift in 0..<character.count {
                let lead = Array(repeating: UInt8(ascii: "a"), count: shift)
                for count in 0..<(200 / character.count) {
                    let text = lead + Array(repeating: character, count: count).joined()
                    let after = Array(repeating: character, count: 40).joined()
                    for piece in Self.utf8Pieces + [[]] {
                        if !Self.expectFoundationsVerdict(on: text + piece + after) { rejected += 1 }
                        checked += 1
                    }
                }
            }
        }
        #expect(checked == (2 * 100 + 3 * 3 * 66 + 4 * 50) * (Self.utf8Pieces.count + 1))
        #expect(rejected == 994 * 13)  // the thirteen malformed pieces, each everywhere
    }

    /// Scans `inside` as a string and expects Foundation's verdict on it and, when valid, the
    /// string's own end. The scanner reads from the opening quote, with bytes after the string
    /// (so that the sixteen at a time reaches past its end); Foundation reads the string in an array.
    /// Returns whether the string is valid.
    @discardableResult
    static func expectFoundationsVerdict(on inside: [UInt8]) -> Bool {
        let string = [UInt8(ascii: "\"")] + inside + [UInt8(ascii: "\"")]
        let expected = (try? JSONSerialization.jsonObject(with: Data([UInt8(ascii: "[")] + string + [UInt8(ascii: "]")]))) != nil
        let line = string + Array(",1,2,3,4]".utf8)
        let scanned: Range<Int>? = line.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try? scanner.scanString()
        }
        #expect((scanned != nil) == expected, "\(inside)")
        if let scanned { #expect(scanned == 0..<string.count, "\(inside)") }
        return expected
    }
}
