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
        var ratio: Double = 0.5
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
        writer.number("ratio", sample.ratio)
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

    @Test("a Double is written as the encoder writes it", arguments: [
        0, 1, -1, 0.5, 0.98, 0.1 + 0.2, 1e-7, 123_456_789.125, 1e21, 1e300, 5e-324, 0.07,
    ] as [Double])
    func doubles(value: Double) throws {
        let sample = Sample(pairs: [], ratio: value, text: "")
        #expect(Self.written(sample).bytes == (try RawJSON(encoding: sample)).bytes, "\(value)")
    }
}
