import CJSONScan
import Testing

/// `runnel_json_string_run` checks UTF-8 three ways: a byte at a time, with SSE2 by masks of
/// byte classes, and with SSSE3 by table lookups (what it uses where the processor has it).
/// These cases hold the three to one answer, and that answer to the standard library's verdict
/// on the bytes, for every pair of bytes and every start of a three- or four-byte sequence, put
/// across the ends of sixteen- and 64-byte blocks inside text that is checked block by block.
@Suite("JSON strings: UTF-8 checked the same at every level")
struct JSONStringLevelTests {
    /// Where the bytes under test start: the first block, across its sixteen-byte parts, and
    /// across the end of the first 64-byte block.
    static let offsets = [0, 14, 15, 16, 61, 62, 63, 64]

    /// Every byte that may stand inside a string unescaped.
    static let bytes: [UInt8] = (0x20...0xFF).map(UInt8.init).filter { $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }

    @Test("every pair of bytes at every offset: one answer at all three levels, the standard library's verdict")
    func everyPair() {
        var valid = 0
        var checked = 0
        for offset in Self.offsets {
            var string = Self.string(placing: 2, at: offset)
            for first in Self.bytes {
                for second in Self.bytes {
                    string.bytes[offset] = first
                    string.bytes[offset + 1] = second
                    if string.expectOneAnswer("\(first) \(second) at \(offset)") { valid += 1 }
                    checked += 1
                }
            }
        }
        #expect(checked == Self.offsets.count * Self.bytes.count * Self.bytes.count)
        // ASCII then ASCII, and the two-byte characters: 94² + 30 × 64 pairs an offset.
        #expect(valid == Self.offsets.count * (94 * 94 + 30 * 64))
    }

    @Test("every start of a three- or four-byte sequence at every offset: one answer, the standard library's verdict")
    func longSequences() {
        let leads = (0xE0...0xFF).map(UInt8.init)
        let seconds = (0x7F...0xC0).map(UInt8.init)
        let laters: [UInt8] = [0x41, 0x80, 0x8F, 0x90, 0xBF, 0xC3]
        var valid = 0
        for offset in Self.offsets {
            var string = Self.string(placing: 4, at: offset)
            for lead in leads {
                for second in seconds {
                    for third in laters {
                        for fourth in laters {
                            string.bytes.replaceSubrange(offset..<offset + 4, with: [lead, second, third, fourth])
                            if string.expectOneAnswer("\([lead, second, third, fourth]) at \(offset)") { valid += 1 }
                        }
                    }
                }
            }
        }
        #expect(valid > 0)
    }

    /// The inside of a string: Vietnamese text around `count` bytes at `offset` (ASCII until set),
    /// so that the blocks around them hold non-ASCII text and are checked, not skipped.
    static func string(placing count: Int, at offset: Int) -> Inside {
        let text = Array("Người dân Đà Nẵng đón năm mới, ".utf8)
        var before: [UInt8] = []
        while before.count < offset { before += text }
        // Cut on a character boundary's far side with ASCII, so that `before` stays well-formed.
        before = Array(before.prefix(offset))
        while let last = before.last, last >= 0x80 {
            before.removeLast()
        }
        before += Array(repeating: UInt8(ascii: "a"), count: offset - before.count)
        return Inside(bytes: before + Array(repeating: UInt8(ascii: "a"), count: count) + text + text + text + text)
    }

    struct Inside {
        var bytes: [UInt8]

        /// Expects the three levels to stop at one place: the end when the bytes are UTF-8, before it
        /// otherwise. Returns whether they are UTF-8.
        func expectOneAnswer(_ what: @autoclosure () -> String) -> Bool {
            let line = bytes + Array(#"",1,2,3,4,5,6,7,8,9]"#.utf8)
            let valid = String(validating: bytes, as: UTF8.self) != nil
            let ends = line.withUnsafeBufferPointer { buffer in
                (0...2).map { runnel_json_string_run_at_level(buffer.baseAddress!, buffer.count, CInt($0)) }
            }
            if ends[0] != ends[1] || ends[0] != ends[2] || (ends[0] == bytes.count) != valid {
                Issue.record("\(what()): levels stop at \(ends), the text is \(valid ? "" : "not ")UTF-8")
            }
            return valid
        }
    }
}
