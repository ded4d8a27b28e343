import Testing

@testable import ParseStage

/// Character references decode as the WHATWG tokenizer decodes them (HTML 13.2.5.72–13.2.5.80):
/// named ones from the whole table, legacy names without `;` (not before `=` or an alphanumeric
/// in an attribute), decimal and hexadecimal ones with the spec's replacements. Bytes are
/// compared, not strings: a `String` comparison would take a combining character for its
/// precomposed form.
@Suite("Character references")
struct CharacterReferenceTests {
    /// The reference at the start of `text`: where it ends and the bytes it decodes to.
    func decode(_ text: String, inAttribute: Bool = false) -> (end: Int?, bytes: [UInt8]) {
        var output: [UInt8] = []
        let end = Array(text.utf8).withUnsafeBufferPointer {
            CharacterReference.decode($0, at: 0, inAttribute: inAttribute, into: &output)
        }
        return (end, output)
    }

    /// `text` with every reference decoded, left to right, as a tokenizer's data state does.
    func unescape(_ text: String, inAttribute: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            var i = 0
            while i < bytes.count {
                if bytes[i] == UInt8(ascii: "&"),
                    let end = CharacterReference.decode(bytes, at: i, inAttribute: inAttribute, into: &output)
                {
                    i = end
                } else {
                    output.append(bytes[i])
                    i += 1
                }
            }
        }
        return output
    }

    func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("a name with its `;` is consumed through the `;`")
    func namedWithSemicolon() {
        #expect(decode("&amp;") == (5, utf8("&")))
        #expect(decode("&amp;x") == (5, utf8("&")))
        #expect(decode("&notin;") == (7, utf8("\u{2209}")))
        #expect(decode("&amp;=", inAttribute: true) == (5, utf8("&")))
    }

    @Test("a legacy name stands without its `;`")
    func legacyWithoutSemicolon() {
        #expect(decode("&AMP") == (4, utf8("&")))
        #expect(decode("&AMP ") == (4, utf8("&")))
        #expect(decode("&gt") == (3, utf8(">")))
        #expect(decode("&amp", inAttribute: true) == (4, utf8("&")))
    }

    @Test("the longest legacy name that begins the run is decoded, the rest is text")
    func longestLegacyPrefix() {
        #expect(decode("&notit;") == (4, utf8("\u{AC}")))
        #expect(unescape("&notit;") == utf8("\u{AC}it;"))
        #expect(decode("&ampx") == (4, utf8("&")))
        #expect(unescape("&ampx") == utf8("&x"))
    }

    @Test("in an attribute, a legacy name before `=` or an alphanumeric is text")
    func legacyInAttribute() {
        #expect(decode("&ampx", inAttribute: true) == (nil, []))
        #expect(decode("&amp=", inAttribute: true) == (nil, []))
        #expect(decode("&amp9", inAttribute: true) == (nil, []))
        #expect(unescape("?a=1&amp=2&ampx", inAttribute: true) == utf8("?a=1&amp=2&ampx"))
        #expect(decode("&amp=") == (4, utf8("&")))  // in text, `=` does not matter
    }

    @Test("an unknown name is text, nothing appended")
    func unknownName() {
        #expect(decode("&unknown;") == (nil, []))
        #expect(decode("&AMp;") == (nil, []))
        #expect(decode("&a") == (nil, []))
        #expect(decode("& amp;") == (nil, []))
        #expect(decode("&;") == (nil, []))
        #expect(decode("&CounterClockwiseContourIntegralx;") == (nil, []))
    }

    @Test("a name can stand for two code points, and the longest name decodes")
    func twoCodePointsAndLongestName() {
        #expect(decode("&NotEqualTilde;") == (15, [0xE2, 0x89, 0x82, 0xCC, 0xB8]))  // U+2242 U+0338
        #expect(decode("&CounterClockwiseContourIntegral;") == (33, utf8("\u{2233}")))
    }

    @Test("decimal and hexadecimal references, with or without `;`")
    func numeric() {
        #expect(decode("&#65;") == (5, utf8("A")))
        #expect(decode("&#x41") == (5, utf8("A")))
        #expect(decode("&#X41;") == (6, utf8("A")))
        #expect(decode("&#x41g") == (5, utf8("A")))
        #expect(decode("&#x1F600;") == (9, utf8("\u{1F600}")))
        #expect(decode("&#0065;") == (7, utf8("A")))
    }

    @Test("zero, beyond U+10FFFF and surrogates are U+FFFD")
    func numericReplacement() {
        #expect(decode("&#0;") == (4, utf8("\u{FFFD}")))
        #expect(decode("&#x110000;") == (10, utf8("\u{FFFD}")))
        #expect(decode("&#x10FFFF;") == (10, utf8("\u{10FFFF}")))
        #expect(decode("&#xD800;") == (8, utf8("\u{FFFD}")))
        #expect(decode("&#57343;") == (8, utf8("\u{FFFD}")))  // U+DFFF
        let forty = String(repeating: "1234567890", count: 4)
        #expect(decode("&#\(forty);") == (43, utf8("\u{FFFD}")))
        #expect(decode("&#x\(String(repeating: "f", count: 40))") == (43, utf8("\u{FFFD}")))
    }

    @Test("0x80–0x9F are the spec's Windows-1252 characters; the unlisted ones stay")
    func numericWindows1252() {
        #expect(decode("&#128;") == (6, utf8("\u{20AC}")))
        #expect(decode("&#x82;") == (6, utf8("\u{201A}")))
        #expect(decode("&#x9F;") == (6, utf8("\u{178}")))
        #expect(decode("&#x81;") == (6, [0xC2, 0x81]))
        #expect(decode("&#x8D;") == (6, [0xC2, 0x8D]))
    }

    @Test("no digits, or the end of the input, is text")
    func numericWithoutDigits() {
        #expect(decode("&#;") == (nil, []))
        #expect(decode("&#x;") == (nil, []))
        #expect(decode("&#xg;") == (nil, []))
        #expect(decode("&#a") == (nil, []))
    }

    @Test("the end of the input never traps")
    func endOfInput() {
        #expect(decode("&") == (nil, []))
        #expect(decode("&#") == (nil, []))
        #expect(decode("&#x") == (nil, []))
        #expect(decode("&#X") == (nil, []))
        #expect(decode("&no") == (nil, []))
        #expect(decode("&#9") == (2 + 1, utf8("\t")))
        #expect(unescape("a&") == utf8("a&"))
        var output: [UInt8] = []
        let end = [UInt8]().withUnsafeBufferPointer {
            CharacterReference.decode($0, at: 0, inAttribute: false, into: &output)
        }
        #expect(end == nil)
    }

    @Test("every name of the table decodes to its value, with or without what follows")
    func wholeTable() {
        let table = CharacterReference.names
        #expect(table.entries.count == 2231)
        #expect(table.entries.filter { table.name($0).last != UInt8(ascii: ";") }.count == 106)
        for entry in table.entries {
            let name = Array(table.name(entry))
            let value = Array(table.value(entry))
            let bytes = [UInt8(ascii: "&")] + name
            for suffix: [UInt8] in [[], Array(" x".utf8)] {
                var output: [UInt8] = []
                let end = (bytes + suffix).withUnsafeBufferPointer {
                    CharacterReference.decode($0, at: 0, inAttribute: false, into: &output)
                }
                #expect(end == bytes.count, "\(String(decoding: name, as: UTF8.self))")
                #expect(output == value, "\(String(decoding: name, as: UTF8.self))")
            }
        }
    }

    /// Expectations from Python's `html.unescape` (text mode), which follows the same table and
    /// rules for these (it drops control and noncharacter references, which the spec keeps:
    /// none here).
    @Test(
        "text decodes as Python's html.unescape decodes it",
        arguments: [
            ("I &hearts; &#x1F600; &amp; you", "I \u{2665} \u{1F600} & you"),
            ("&notit; &notin; &not", "\u{AC}it; \u{2209} \u{AC}"),
            ("a&b=c&amp=d&ampx", "a&b=c&=d&x"),
            ("&lt;p&gt;", "<p>"),
            ("&Aacute&aacute;&AAcute;", "\u{C1}\u{E1}&AAcute;"),
            ("caf&eacute; &copy2024", "caf\u{E9} \u{A9}2024"),
            ("&#8364;&#x20ac;&#X20AC", "\u{20AC}\u{20AC}\u{20AC}"),
            ("&#150;&#x9d;&#0;&#xDFFF;", "\u{2013}\u{9D}\u{FFFD}\u{FFFD}"),
            ("&fjlig;&nGt;&bne;", "fj\u{226B}\u{20D2}=\u{20E5}"),
            ("&#;&#x;&;&&amp;;", "&#;&#x;&;&&;"),
            ("&Eacute;t&eacute;&nbsp;&mdash;&hellip;", "\u{C9}t\u{E9}\u{A0}\u{2014}\u{2026}"),
            ("&frac12&frac34;&sup2x", "\u{BD}\u{BE}\u{B2}x"),
            ("&quot;&apos;&QUOT", "\"'\""),
            ("&ThickSpace;&NegativeMediumSpace;", "\u{205F}\u{200A}\u{200B}"),
            ("&#x41&#66&#x110000;&#99999999999999999999999999999999999999;", "AB\u{FFFD}\u{FFFD}"),
        ])
    func python(_ text: String, _ expected: String) {
        #expect(unescape(text) == utf8(expected))
    }
}
