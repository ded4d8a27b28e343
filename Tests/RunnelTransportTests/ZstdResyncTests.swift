import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

@testable import RunnelTransport

/// Finding where to read on after a damaged zstd frame: the next whole frame that decodes.
@Suite("Reading on after a damaged zstd frame")
struct ZstdResyncTests {
    /// One frame of `bytes`, compressed (text) or stored (random bytes do not compress).
    static func frame(_ bytes: [UInt8]) throws -> [UInt8] {
        var out: [UInt8] = []
        try ZstdCompressor(level: 3).compress(bytes, mode: .end, into: &out)
        return out
    }

    static func text(_ n: Int) -> [UInt8] {
        Array((0..<n).map { "{\"id\":\"m\($0)\",\"type\":\"page.fetched\",\"body\":{\"n\":\($0)}}\n" }.joined().utf8)
    }

    static func write(_ bytes: [UInt8]) throws -> FileInput {
        let path = try ScratchDirectory.make().appendingPathComponent("log.jsonl.zst").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return try FileInput(path: path)
    }

    @Test("after a frame with a flipped byte, the next frame; the same read 7 bytes at a time, a magic split across reads", arguments: [1 << 20, 7])
    func nextWholeFrame(chunkSize: Int) throws {
        let first = try Self.frame(Self.text(50))
        var damaged = try Self.frame(Self.text(400))
        damaged[damaged.count / 2] ^= 0x40
        let third = try Self.frame(Self.text(300))
        let input = try Self.write(first + damaged + third)
        #expect(ZstdResync.nextFrame(in: input, after: first.count, maxWindowLog: 24, chunkSize: chunkSize) == first.count + damaged.count)
    }

    @Test("a magic inside stored data is no frame: the search goes on past it")
    func strayMagic() throws {
        var random = SystemRandomNumberGenerator()
        var noise = (0..<20_000).map { _ in UInt8.random(in: 0...255, using: &random) }
        // The magic and a plausible header inside the stored bytes of the damaged frame.
        noise.replaceSubrange(5_000..<5_006, with: ZstdResync.magic + [0x20, 0x00])
        var damaged = try Self.frame(noise)
        damaged[3] ^= 0xFF  // its own magic broken
        let next = try Self.frame(Self.text(20))
        let input = try Self.write(damaged + next)
        #expect(ZstdResync.nextFrame(in: input, after: 0, maxWindowLog: 24, chunkSize: 4096) == damaged.count)
    }

    @Test("a frame the file ends inside is not whole: nothing to read on at")
    func tornTail() throws {
        let damaged = try Self.frame(Self.text(100))
        let torn = try Self.frame(Self.text(2_000))
        var bytes = damaged
        bytes[bytes.count / 2] ^= 0x40
        bytes += torn.prefix(torn.count - 10)
        let input = try Self.write(bytes)
        #expect(ZstdResync.nextFrame(in: input, after: 0, maxWindowLog: 24, chunkSize: 512) == nil)
    }

    /// The first offset after `damaged` where a whole frame that decodes starts, found the slow
    /// way: every offset tried, the rest of the file decoded in one piece.
    static func reference(_ bytes: [UInt8], after damaged: Int) -> Int? {
        var offset = damaged + 1
        while offset + 4 <= bytes.count {
            if Array(bytes[offset..<offset + 4]) == ZstdResync.magic {
                let decompressor = ZstdDecompressor(maxWindowLog: 24)
                let rest = bytes[offset...]
                _ = try? rest.withUnsafeBytes { raw in try decompressor.decompress(raw) { _ in } }
                if decompressor.frameStart > 0 { return offset }
            }
            offset += 1
        }
        return nil
    }

    @Test("random damage in random logs: the same frame as trying every offset", arguments: [11, 4096])
    func againstEveryOffset(chunkSize: Int) throws {
        var rng = SplitMix(seed: UInt64(chunkSize))
        var found = 0
        var none = 0
        for _ in 0..<40 {
            var bytes: [UInt8] = []
            var starts: [Int] = []
            for _ in 0..<Int(rng.next() % 5 + 2) {
                starts.append(bytes.count)
                let n = Int(rng.next() % 200)
                let content = rng.next() % 2 == 0 ? Self.text(n) : (0..<n * 40).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                bytes += try Self.frame(content)
            }
            // Damage: flipped bytes, a cut, or a magic planted at random.
            for _ in 0..<Int(rng.next() % 4) {
                let at = Int(rng.next() % UInt64(bytes.count))
                switch rng.next() % 3 {
                case 0: bytes[at] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                case 1: bytes.replaceSubrange(at..<min(bytes.count, at + 4), with: ZstdResync.magic.prefix(bytes.count - at))
                default: bytes.removeLast(min(bytes.count - 1, Int(rng.next() % 64)))
                }
            }
            let damaged = starts[Int(rng.next() % UInt64(starts.count))]
            guard damaged < bytes.count else { continue }
            let input = try Self.write(bytes)
            let expected = Self.reference(bytes, after: damaged)
            if expected == nil { none += 1 } else { found += 1 }
            #expect(
                ZstdResync.nextFrame(in: input, after: damaged, maxWindowLog: 24, chunkSize: chunkSize) == expected,
                "\(bytes.count) bytes, frames at \(starts), damaged at \(damaged)")
        }
        #expect(found >= 10 && none >= 3, "both outcomes tried: \(found) found, \(none) none")
    }

    @Test("a candidate over the window limit does not count")
    func windowLimit() throws {
        // Level 19 on 4 MiB of text asks for a window larger than 2^20.
        var big: [UInt8] = []
        try ZstdCompressor(level: 19).compress(Self.text(80_000), mode: .end, into: &big)
        let small = try Self.frame(Self.text(10))
        let input = try Self.write([0x00] + big + small)
        #expect(ZstdResync.nextFrame(in: input, after: 0, maxWindowLog: 24, chunkSize: 1 << 16) == 1)
        #expect(ZstdResync.nextFrame(in: input, after: 0, maxWindowLog: 20, chunkSize: 1 << 16) == 1 + big.count)
    }
}
