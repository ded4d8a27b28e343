import Foundation
import RunnelProtocol
import Testing

@Suite("JSON object writer")
struct JSONObjectWriterTests {
    private struct Sample: Encodable {
        struct Pair: Encodable {
            var a: String?
            var b: String
        }
        var count: Int?
        var map: [String: String]?
        var name: String?
        var pairs: [Pair]
        var tags: [String]?
        var text: String
    }

    private static func written(_ sample: Sample) -> RawJSON {
        var writer = JSONObjectWriter()
        writer.integer("count", sample.count)
        writer.stringMap("map", sample.map)
        writer.string("name", sample.name)
        writer.objects("pairs", sample.pairs) { writer, pair in
            writer.string("a", pair.a)
            writer.string("b", pair.b)
        }
        writer.strings("tags", sample.tags)
        writer.string("text", sample.text)
        return writer.finish()
    }

    @Test("it writes the bytes RawJSON(encoding:) writes: absent members left out, empty arrays kept")
    func sameAsEncoder() throws {
        let samples = [
            Sample(pairs: [], text: ""),
            Sample(
                count: -42, map: ["z": "1", "a": "\"q\"", "m": "/"], name: "Tin mới / 😀",
                pairs: [.init(a: nil, b: "x"), .init(a: "\n\t\u{1}", b: "y")], tags: [], text: "a\\b"),
            Sample(count: 0, pairs: [.init(a: "only", b: "")], tags: ["one", "two"], text: String(repeating: "é\"", count: 500)),
        ]
        for sample in samples {
            #expect(Self.written(sample).bytes == (try RawJSON(encoding: sample)).bytes)
        }
    }
}
