import Foundation
import RunnelProtocol
import RunnelTesting

@testable import RunnelTransport

/// Messages and directories for the capture log tests.
enum CaptureFixtures {
    /// A page-like message whose body varies enough not to compress to nothing.
    static func message(_ i: Int, millis: UInt64 = 1_795_000_000_000) -> Envelope {
        var rng = SplitMix(seed: UInt64(i))
        let words = (0..<(5 + i % 40)).map { _ in String(rng.next() % 1_000_000, radix: 36) }.joined(separator: " ")
        let body = try! RawJSON(#"{"url":"https://vov.vn/bai-\#(i).html","title":"Phái bộ \#(i)","text":"\#(words)"}"#)
        return Envelope(id: "m\(i)", type: i % 3 == 0 ? "article.parsed" : "page.fetched", ts: Timestamp.format(millis: millis + UInt64(i) * 10), body: body)
    }

    static func directory() throws -> String {
        try ScratchDirectory.make().path
    }

    static func readAll(_ paths: [String]) throws -> (ids: [String], warnings: [CaptureLogWarning]) {
        let reader = try CaptureLogReader(paths: paths)
        var ids: [String] = []
        try reader.forEach { ids.append($0.envelope.id) }
        return (ids, reader.warnings)
    }
}

/// A small deterministic generator, so a failing case can be reproduced from its seed.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
