import Testing

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
    /// on valid text of every script the plain-NFC pass knows, and none (the String's decoding
    /// then says what is wrong) on every kind of broken UTF-8 (overlong forms, surrogates, stray
    /// and missing continuation bytes) put anywhere in it.
    @Test func plainUTF8IsTheDecodedStringsBytes() {
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
            guard let plain = CharsetDecoder.plainUTF8(bytes[...], charset: "utf-8") else { return }
            let viaString = Result { () throws(CharsetDecoder.Failure) in Array(try CharsetDecoder.decode(bytes, charset: "utf-8").utf8) }
            #expect(.success(plain) == viaString, "\(note): \(bytes)")
        }
        for text in texts {
            let bytes = Array(text.utf8)
            agree(bytes, text)
            let plainScripts = texts[..<3].contains(text) || text.isEmpty
            #expect((CharsetDecoder.plainUTF8(bytes[...], charset: "UTF-8") != nil) == plainScripts, "\(text)")
            for piece in broken {
                for at in [0, bytes.count / 2, bytes.count] {
                    // At a scalar boundary (or inside one: the middle byte may be a continuation byte).
                    agree(Array(bytes[..<at]) + piece + Array(bytes[at...]), "\(text) with \(piece) at \(at)")
                }
            }
        }
    }
}
