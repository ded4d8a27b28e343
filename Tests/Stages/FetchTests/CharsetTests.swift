import Testing
import Foundation

@testable import FetchStage

/// Charset finding and decoding, without I/O.
@Suite struct CharsetTests {
    @Test func headerParameterIsRead() {
        #expect(CharsetDetector.find(contentType: "text/html; charset=\"Windows-1258\"", body: []).name == "windows-1258")
        #expect(CharsetDetector.find(contentType: "text/html;charset=UTF-8", body: []).source == .header)
    }

    @Test func bomWinsOverTheHeader() {
        let found = CharsetDetector.find(contentType: "text/html; charset=iso-8859-1", body: [0xEF, 0xBB, 0xBF, 0x41])
        #expect(found == CharsetDetector.Found(name: "utf-8", source: .bom, skip: 3))
    }

    @Test func metaTagsAreRead() {
        let forms = [
            "<meta charset=\"windows-1258\">", "<META CHARSET=windows-1258 />",
            "<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1258\">",
        ]
        for meta in forms {
            let found = CharsetDetector.find(contentType: "text/html", body: Fixtures.page([], meta: meta))
            #expect(found == CharsetDetector.Found(name: "windows-1258", source: .meta), "\(meta)")
        }
        let xml = Fixtures.ascii("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><html/>")
        #expect(CharsetDetector.find(contentType: nil, body: xml).name == "iso-8859-1")
    }

    @Test func detection() {
        #expect(CharsetDetector.detect(Array("Tin bài liên quan".utf8)) == "utf-8")
        #expect(CharsetDetector.detect(Fixtures.ascii("plain ascii")) == "utf-8")
        #expect(CharsetDetector.detect(Fixtures.vietnameseWindows1258) == "windows-1258")
        #expect(CharsetDetector.detect(Fixtures.frenchWindows1252) == "windows-1252")
    }

    @Test func windows1258IsComposedToNFC() throws {
        let text = try CharsetDecoder.decode(Fixtures.vietnameseWindows1258, charset: "windows-1258")
        #expect(text == Fixtures.vietnameseText)
        #expect(text.unicodeScalars.count == Fixtures.vietnameseText.unicodeScalars.count)
    }

    @Test func latin1LabelsDecodeAsWindows1252() throws {
        #expect(try CharsetDecoder.decode(Fixtures.frenchWindows1252, charset: "ISO-8859-1") == Fixtures.frenchText)
        #expect(try CharsetDecoder.decode([0x80, 0x81], charset: "windows-1252") == "€\u{81}")
    }

    /// Every byte of windows-1252 decodes to its scalar (the upper half written as two or
    /// three bytes of UTF-8), in a text long enough to hold each many times.
    @Test func everyWindows1252ByteDecodes() throws {
        let upper: [UInt32] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
            0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
            0x0153, 0x9D, 0x017E, 0x0178,
        ] + Array(0xA0...0xFF)
        let bytes = Array(repeating: Array(0...255 as ClosedRange<UInt8>), count: 50).flatMap { $0 }
        let decoded = try CharsetDecoder.decode(bytes, charset: "windows-1252")
        let expected = Array(repeating: Array(0..<0x80) + upper, count: 50).flatMap { $0 }
        #expect(decoded.unicodeScalars.map(\.value) == expected)
        #expect(try CharsetDecoder.decode([], charset: "windows-1252") == "")
    }

    @Test func otherCharsetsGoThroughIconv() throws {
        // "Łódź" in ISO-8859-2.
        #expect(try CharsetDecoder.decode([0xA3, 0xF3, 0x64, 0xBC], charset: "iso-8859-2") == "Łódź")
        #expect(throws: CharsetDecoder.Failure.unknownCharset("NO-SUCH-CHARSET")) {
            try CharsetDecoder.decode([0x41], charset: "no-such-charset")
        }
    }

    @Test func invalidUTF8IsFoundAtItsOffset() {
        #expect(CharsetDecoder.firstInvalidUTF8(Array("ok".utf8) + [0xC3, 0x28]) == 2)
        #expect(CharsetDecoder.firstInvalidUTF8([0xED, 0xA0, 0x80]) == 0)  // a surrogate
        #expect(CharsetDecoder.firstInvalidUTF8([0xE2, 0x82]) == 0)  // cut short
        #expect(CharsetDecoder.firstInvalidUTF8(Array("Phái bộ €𝄞".utf8)) == nil)
        #expect(throws: CharsetDecoder.Failure.invalidBytes(offset: 1)) {
            try CharsetDecoder.decode([0x41, 0xFF], charset: "utf-8")
        }
    }

    /// The bytes fetch writes for a page without making a String of it: the same as the String's,
    /// on valid text in NFC, and none (the String's decoding
    /// then says what is wrong) on every kind of broken UTF-8 (overlong forms, surrogates, stray
    /// and missing continuation bytes) put anywhere in it.
    @Test func utf8InNFCIsTheDecodedStringsBytes() {
        let texts = [
            "Phái bộ Việt Nam tại Liên hợp quốc", "Ελλάδα · Россия — 中文 ひらがな カタカナ ＡＢＣ", "plain ascii <p>\"x\"</p>",
            "e\u{301} combining", "Ω ohm sign \u{2126}", "\u{1F600} emoji", "\u{0387} ano teleia", "",
        ]
        let broken: [[UInt8]] = [
            [0xC0, 0x80], [0xC1, 0xBF], [0x80], [0xBF], [0xC3], [0xC3, 0x41], [0xE1, 0xBB], [0xE1, 0xBB, 0x41],
            [0xE1, 0x41, 0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80], [0xE4, 0xB8], [0xEF, 0xBC, 0xC0],
            [0xE2, 0x80, 0x7F], [0xF0, 0x9F, 0x98], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0xCE, 0x87], [0xD2, 0x83],
        ]
        func agree(_ bytes: [UInt8], _ note: String) {
            guard let plain = CharsetDecoder.utf8InNFC(bytes[...], charset: "utf-8") else { return }
            let viaString = Result { () throws(CharsetDecoder.Failure) in Array(try CharsetDecoder.decode(bytes, charset: "utf-8").utf8) }
            #expect(.success(plain) == viaString, "\(note): \(bytes)")
        }
        for text in texts {
            let bytes = Array(text.utf8)
            agree(bytes, text)
            let isNFC = text.precomposedStringWithCanonicalMapping.utf8.elementsEqual(text.utf8)
            #expect((CharsetDecoder.utf8InNFC(bytes[...], charset: "UTF-8") != nil) == isNFC, "\(text)")
            for piece in broken {
                for at in [0, bytes.count / 2, bytes.count] {
                    // At a scalar boundary (or inside one: the middle byte may be a continuation byte).
                    agree(Array(bytes[..<at]) + piece + Array(bytes[at...]), "\(text) with \(piece) at \(at)")
                }
            }
        }
    }

    /// Pieces of text in and out of NFC: plain runs, marks that compose with the letter before
    /// them or must be reordered, Hangul jamo that compose with a syllable, a Bengali vowel that
    /// may compose, singletons that decompose, emoji, symbols, and broken UTF-8.
    private static let nfcPieces: [[UInt8]] = [
        "abc", " ", "<p class=\"x\">", "Phái bộ", "Ελλάδα", "東京", "e", "\u{301}", "\u{323}", "\u{F6}", "a\u{323}\u{302}",
        "\u{AC00}", "\u{11A8}", "\u{1100}", "\u{1161}", "\u{9C7}", "\u{9BE}", "\u{9AC}", "\u{2126}", "\u{387}", "\u{1F600}",
        "\u{FE0F}", "\u{20AC}", "\u{2122}", "\u{2192}", "\u{0E17}\u{0E35}", "\u{0627}\u{0653}", "\u{FEFF}", "\u{1E0A}\u{323}",
    ].map { Array($0.utf8) } + [[0xC3], [0xE2, 0x82], [0x80], [0xED, 0xA0, 0x80], [0xF0, 0x9F]]

    /// `isNFC`, which has the standard library check only the runs of scalars that are not
    /// plain, against its check of the whole text, on random texts: true exactly for valid
    /// UTF-8 in NFC. (Not against Foundation's normalization, which on Linux leaves a Hangul
    /// syllable and a final jamo uncomposed.)
    @Test func isNFCIsTheWholeTextsCheck() {
        var disagreements: [[UInt8]] = []
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<12) { bytes += Self.nfcPieces.randomElement()! }
            let expected = bytes.withUnsafeBufferPointer { whole in
                guard var span = try? UTF8Span(validating: whole.span) else { return false }
                return span.checkForNFC(quickCheck: false)
            }
            if bytes.withUnsafeBufferPointer(CharsetDecoder.isNFC) != expected { disagreements.append(bytes) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5).map { String(decoding: $0, as: UTF8.self).unicodeScalars.map { String($0.value, radix: 16) } })")
    }

    /// `isValidUTF8`, which leaves only the runs of scalars that are not plain to the standard
    /// library, against its check of the whole, on random texts with broken pieces among them.
    @Test func isValidUTF8IsTheWholeTextsCheck() {
        var disagreements: [[UInt8]] = []
        var invalid = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<12) { bytes += Self.nfcPieces.randomElement()! }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if !expected { invalid += 1 }
            if bytes.withUnsafeBufferPointer(CharsetDecoder.isValidUTF8) != expected { disagreements.append(bytes) }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5))")
        #expect(invalid > 1_000)
        #expect(CharsetDetector.detect(Array("Phái bộ \u{1F600} e\u{301}".utf8)) == "utf-8")
        #expect(CharsetDetector.detect([0x50, 0x68, 0x61, 0xEC, 0x69]) == "windows-1258")
    }

    /// Normalizing run by run gives what normalizing the whole text gives, on random texts of
    /// the same pieces (valid UTF-8 only: a String's), and leaves text in NFC as it is.
    @Test func normalizingRunByRunIsNormalizingTheWhole() {
        var disagreements: [String] = []
        var changed = 0
        for _ in 0..<20_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0..<12) { bytes += Self.nfcPieces.randomElement()! }
            guard let text = String(validating: bytes, as: UTF8.self) else { continue }
            let whole = Array(text._nfcCodeUnits)
            let normalized = CharsetDecoder.normalized(text)
            if Array(normalized.utf8) != whole { disagreements.append(text) }
            if whole != bytes { changed += 1 }
        }
        #expect(disagreements.isEmpty, "\(disagreements.prefix(5).map { $0.unicodeScalars.map { String($0.value, radix: 16) } })")
        #expect(changed > 1_000)
        // A long page with a few decomposed words among plain text and other runs.
        let page = String(repeating: "<p>Phái bộ € → 東京</p>", count: 2_000) + "Pha\u{301}i a\u{301}\u{323} \u{AC00}\u{11A8}"
            + String(repeating: " plain", count: 1_000)
        #expect(Array(CharsetDecoder.normalized(page).utf8) == Array(page._nfcCodeUnits))
    }

    /// Decoding gives NFC as Unicode defines it: a Hangul syllable and a final jamo compose
    /// (Foundation's normalization on Linux leaves them apart), marks compose and reorder.
    @Test func decodedTextIsNFC() throws {
        let cases: [(String, String)] = [
            ("\u{AC00}\u{11A8}", "\u{AC01}"), ("\u{1100}\u{1161}\u{11A8}", "\u{AC01}"), ("Pha\u{301}i", "Phái"),
            ("a\u{301}\u{323}", "\u{1EA1}\u{301}"), ("\u{2126}", "\u{3A9}"), ("한국어 €", "한국어 €"),
        ]
        for (input, expected) in cases {
            let decoded = try CharsetDecoder.decode(Array(("<p>" + input).utf8), charset: "utf-8")
            #expect(Array(decoded.utf8) == Array(("<p>" + expected).utf8), "\(input.unicodeScalars.map { String($0.value, radix: 16) })")
        }
    }
}
