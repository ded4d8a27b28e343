import Foundation
import RunnelProtocol
import Testing

@Suite("JSON strings written without Foundation")
struct JSONStringTests {
    private func written(_ string: String) -> String {
        var out: [UInt8] = []
        JSONString.append(string, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func readBack(_ json: String) throws -> String {
        try JSONDecoder().decode(String.self, from: Data(json.utf8))
    }

    @Test("each control character, quote and backslash is escaped, with the short escapes JSON has")
    func escapes() {
        #expect(written("a\"b\\c") == #""a\"b\\c""#)
        #expect(written("\n\r\t\u{08}\u{0C}") == #""\n\r\t\b\f""#)
        #expect(written("\u{00}\u{01}\u{1F}") == #""\u0000\u0001\u001f""#)
        #expect(written("\u{7F}é/") == "\"\u{7F}é/\"")
    }

    @Test("an escape at every offset of a sixteen-byte block and across its end reads back the same")
    func everyOffset() throws {
        for special in ["\"", "\\", "\n", "\u{01}", "\u{1F}", "\u{0C}", "\u{7F}"] {
            for offset in 0..<36 {
                for tail in [0, 1, 7, 8, 9, 15, 16, 17] {
                    let string = String(repeating: "x", count: offset) + special + String(repeating: "ü", count: tail)
                    #expect(try readBack(written(string)) == string, "offset \(offset), tail \(tail)")
                }
            }
        }
    }

    @Test("text without anything to escape is copied as it is, multi-byte characters included")
    func plainText() throws {
        let text = String(repeating: "Đà Nẵng 東京 ", count: 40)
        #expect(written(text) == "\"\(text)\"")
        #expect(written("") == "\"\"")
    }

    @Test("plain strings of every length up to 40 (one look at their first and last sixteen bytes up to 32), with an escape at each end")
    func shortStrings() throws {
        for length in 0...40 {
            let plain = String((0..<length).map { Character(Unicode.Scalar(UInt8(0x41 + $0 % 26))) })
            #expect(written(plain) == "\"\(plain)\"", "length \(length)")
            #expect(JSONString.encodedCount(of: plain) == length + 2)
            for string in ["\"" + plain, plain + "\\", "\n" + plain + "\u{01}"] {
                var out: [UInt8] = []
                JSONString.append(string, to: &out)
                #expect(JSONString.encodedCount(of: string) == out.count, "\(string.debugDescription)")
                #expect(try readBack(written(string)) == string, "\(string.debugDescription)")
            }
        }
    }

    @Test("encodedCount is the number of bytes append writes, escapes and quotes included")
    func encodedCount() {
        var samples = ["", "a\"b\\c", "\n\r\t\u{08}\u{0C}", "\u{00}\u{01}\u{1F}", "Đà Nẵng 東京", String(repeating: "x", count: 23)]
        for special in ["\"", "\\", "\n", "\u{01}"] {
            for offset in 0..<36 { samples.append(String(repeating: "y", count: offset) + special + "ü") }
        }
        for sample in samples {
            var out: [UInt8] = []
            JSONString.append(sample, to: &out)
            #expect(JSONString.encodedCount(of: sample) == out.count, "\(sample.debugDescription)")
        }
    }

    @Test("encodedCount of long texts: escapes counted in byte lanes, summed before a lane can overflow")
    func encodedCountLong() {
        // 255 blocks of sixteen bytes are counted before the lanes are summed: texts of every
        // byte escaped run a lane to 255, and past it into the next round.
        var samples = [String(repeating: "\"", count: 255 * 16), String(repeating: "\n", count: 255 * 16 + 17)]
        samples.append(String(repeating: "\u{01}\u{08}\"x", count: 2_000))
        for _ in 0..<200 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<1_500) { text += Self.pieces.randomElement()! }
            samples.append(text)
        }
        for sample in samples {
            var out: [UInt8] = []
            JSONString.append(sample, to: &out)
            #expect(JSONString.encodedCount(of: sample) == out.count, "\(sample.utf8.count) bytes")
        }
    }

    /// What a string is made of: plain runs of several lengths (so escapes fall on every offset
    /// of a word), the characters JSON escapes, and multi-byte characters.
    private static let pieces = [
        "a", "xyz", "abcdefg", "0123456789abcdef", "\"", "\\", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{00}",
        "\u{01}", "\u{1B}", "\u{1F}", "\u{7F}", "/", "é", "Đà Nẵng", "東京", "😀", " ", "<a href=\"/x\">",
    ]

    @Test("random texts: the bytes written are those of Foundation's encoder, after what the array held")
    func randomTexts() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .withoutEscapingSlashes
        for _ in 0..<3_000 {
            var text = ""
            for _ in 0..<Int.random(in: 0..<60) { text += Self.pieces.randomElement()! }
            var out = Array("{\"k\":".utf8)
            let before = out
            JSONString.append(text, to: &out)
            let written = Array(out[before.count...])
            #expect(out[..<before.count].elementsEqual(before))
            #expect(written == Array(try encoder.encode(text)), "\(text.debugDescription)")
            #expect(written.count == JSONString.encodedCount(of: text), "\(text.debugDescription)")
        }
    }

    @Test("many strings appended to one array: each lands after the last")
    func manyStrings() throws {
        var out: [UInt8] = []
        var expected: [UInt8] = []
        for index in 0..<2_000 {
            let text = String(repeating: "q\"\u{01}é", count: index % 7)
            JSONString.append(text, to: &out)
            expected += try JSONEncoder().encode(text)
        }
        #expect(out == expected)
    }
}
