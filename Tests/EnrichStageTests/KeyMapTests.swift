import Testing

@testable import EnrichStage

/// `KeyMap` against a `Dictionary` doing the same: keys that collide in the low bits, the key
/// 0, growth from the smallest table, updates of keys already there.
@Suite struct KeyMapTests {
    @Test func agreesWithADictionary() {
        var random = SystemRandomNumberGenerator()
        var map = KeyMap<Int>()
        var reference: [UInt64: Int] = [:]
        let keys: [UInt64] = [0, 1, 0x10000, 0x1_0000_0000, .max] + (0..<5_000).map { i in
            i % 3 == 0 ? UInt64(i) << 16 : random.next()
        }
        for _ in 0..<3 {
            for key in keys.shuffled() {
                map.update(key, default: 0) { $0 += 1 }
                reference[key, default: 0] += 1
            }
        }
        map.set(7, 99)
        reference[7] = 99
        #expect(map.count == reference.count)
        for key in reference.keys { #expect(map[key] == reference[key]) }
        #expect(map[0xDEAD_BEEF_0000_0001] == nil)
        var seen: [UInt64: Int] = [:]
        map.forEach { key, value in seen[key] = value }
        #expect(seen == reference)
    }
}
