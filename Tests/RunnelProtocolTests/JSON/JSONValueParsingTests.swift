import Foundation
import RunnelProtocol
import Testing

/// ``JSONValue/init(parsing:)`` builds values on ``JSONScanner`` (parse reads every page's
/// JSON-LD with it). Held here to Foundation's `JSONDecoder` reading the same text into a
/// ``JSONValue``, on hand-written and random documents, and to the scanner's refusals.
@Suite("JSON values parsed without Foundation")
struct JSONValueParsingTests {
    static func parsed(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(JSONSyntaxError) in try JSONValue(parsing: bytes) } }.get()
    }

    static func foundations(_ text: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
    }

    @Test("hand-written JSON-LD and edge cases read as Foundation reads them", arguments: [
        #"{"@context": "https://schema.org", "@type": ["NewsArticle", "Thing"], "headline": "Ph\u00e1i b\u1ed9", "n": -1.5e3}"#,
        #"  [1, 2.25, 0, -0, 1E2, true, false, null, "", {}, [], [[]], {"a": {"b": [1]}}]  "#,
        #"{"text": "line\nbreak \"quoted\" back\\slash \/ tab\t \ud83d\ude00 \u0000"}"#,
        #""a plain fragment""#,
        "42",
        "{\"ascii\": \"é ệ 한 😀\"}",
    ])
    func handWritten(_ text: String) throws {
        #expect(try Self.parsed(text) == Self.foundations(text))
    }

    /// As `JSONSerialization` (which JSON-LD was read with before) does; `JSONDecoder` keeps the first.
    @Test("a repeated key keeps its last value")
    func repeatedKey() throws {
        #expect(try Self.parsed(#"{"same": 1, "same": "two"}"#) == .object(["same": .string("two")]))
    }

    @Test("what is no JSON is refused with the offset of the first bad byte", arguments: [
        ("", 0), ("{", 1), (#"{"a" 1}"#, 5), (#"{"a": 1,}"#, 8), ("[1 2]", 3), ("tru", 0), ("\"raw\ttab\"", 4),
        ("01", 1), ("[1] x", 4), (#"{"a": "\q"}"#, 8), ("nul", 0),
    ] as [(String, Int)])
    func refused(_ text: String, _ offset: Int) {
        do {
            let value = try Self.parsed(text)
            Issue.record("\(text) was read as \(value)")
        } catch {
            #expect(error.offset == offset, "\(text): \(error)")
        }
    }

    @Test("nesting past the scanner's limit is refused, not a stack overflow")
    func deepNesting() throws {
        let depth = JSONScanner.maxDepth
        let within = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(try Self.parsed(within) == Self.foundations(within))
        let past = "[" + within + "]"
        #expect(throws: JSONSyntaxError.self) { try Self.parsed(past) }
        let objects = String(repeating: #"{"a":"#, count: depth + 1) + "1" + String(repeating: "}", count: depth + 1)
        #expect(throws: JSONSyntaxError.self) { try Self.parsed(objects) }
    }

    /// A random value, `depth` levels at most: strings with escapes and text of several scripts.
    static func randomValue<G: RandomNumberGenerator>(_ depth: Int, _ random: inout G) -> JSONValue {
        let pieces = ["a", "Ω", "ệ", "한", "😀", "\"", "\\", "\n", "\u{01}", "/", " ", "\u{2028}"]
        switch Int.random(in: 0..<(depth > 0 ? 7 : 5), using: &random) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &random))
        case 2: return .number(Double(Int.random(in: -100_000...100_000, using: &random)) / 8)
        case 3, 4:
            return .string((0..<Int.random(in: 0..<12, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined())
        case 5:
            return .array((0..<Int.random(in: 0..<5, using: &random)).map { _ in randomValue(depth - 1, &random) })
        default:
            var members: [String: JSONValue] = [:]
            for index in 0..<Int.random(in: 0..<5, using: &random) {
                members["k\(index)\(pieces.randomElement(using: &random)!)"] = randomValue(depth - 1, &random)
            }
            return .object(members)
        }
    }

    @Test("random documents, written by Foundation's encoder, read back as they were")
    func randomDocuments() throws {
        var random = SystemRandomNumberGenerator()
        let encoder = JSONEncoder()
        for _ in 0..<500 {
            let value = Self.randomValue(4, &random)
            let text = String(decoding: try encoder.encode(value), as: UTF8.self)
            #expect(try Self.parsed(text) == value, "\(text)")
        }
    }
}
