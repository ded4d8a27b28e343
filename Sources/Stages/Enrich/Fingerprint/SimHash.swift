/// A 64-bit SimHash over word shingles, for finding near-duplicate articles.
///
/// Each shingle of three consecutive words (lower case, punctuation ignored; ideographs count
/// as words) is hashed to 64 bits with FNV-1a and a SplitMix64 finalizer; each bit position
/// adds 1 when the shingle's bit is set and subtracts 1 otherwise, and the fingerprint keeps
/// the positions whose sum is positive. Texts that share most shingles get fingerprints that
/// differ in few bits: a lightly edited copy is a few bits away, an unrelated text about 32.
///
/// The hashes are fixed (no per-process seed), so fingerprints compare across processes, hosts
/// and versions of Swift.
///
/// ```swift
/// let a = SimHash.fingerprint(of: "…")
/// SimHash.distance(a, SimHash.fingerprint(of: "…")) // 0…64
/// ```
public enum SimHash {
    /// Words per shingle.
    public static let shingleSize = 3

    /// The fingerprint of `text`.
    public static func fingerprint(of text: String) -> UInt64 {
        fingerprint(TokenizedText(text))
    }

    /// The fingerprint of a tokenized text; 0 when it has no word.
    static func fingerprint(_ text: TokenizedText) -> UInt64 {
        var hashes: [UInt64] = []
        hashes.reserveCapacity(text.tokens.count)
        for index in text.tokens.indices where text.tokens[index].isCountable {
            hashes.append(text.tokens[index].key)
        }
        guard !hashes.isEmpty else { return 0 }
        // Bit b of the fingerprint is set when most shingles have bit b set.
        var counts = BitCounts()
        if hashes.count < shingleSize {
            counts.add(mix(hashes.reduce(0x9E37_79B9_7F4A_7C15) { mix($0 ^ $1) }))
        } else {
            for start in 0...(hashes.count - shingleSize) {
                var h: UInt64 = 0x9E37_79B9_7F4A_7C15
                for k in 0..<shingleSize { h = mix(h ^ hashes[start + k]) }
                counts.add(h)
            }
        }
        var result: UInt64 = 0
        for bit in 0..<64 where 2 * counts.count(at: bit) > counts.words { result |= 1 << UInt64(bit) }
        return result
    }

    /// How many of the words added have each of the 64 bits set, as a vertical counter: bit `b`
    /// of `levels[k]` is bit `k` of bit `b`'s count, and a word is added with carries from level
    /// to level (two levels on average), not bit by bit: 64 additions a shingle were a sixteenth
    /// of enrich's CPU (issue 14).
    struct BitCounts {
        /// Enough levels for 2^64 words.
        private var levels = [UInt64](repeating: 0, count: 64)
        /// The levels that have held a bit.
        private var height = 0
        /// The words added.
        private(set) var words = 0

        mutating func add(_ word: UInt64) {
            words += 1
            let reached = levels.withUnsafeMutableBufferPointer { levels in
                var carry = word
                var k = 0
                while carry != 0 {
                    let sum = levels[k] ^ carry
                    carry &= levels[k]
                    levels[k] = sum
                    k += 1
                }
                return k
            }
            height = max(height, reached)
        }

        /// How many of the words added have bit `bit` set.
        func count(at bit: Int) -> Int {
            var count = 0
            for k in 0..<min(height, 63) { count |= Int(truncatingIfNeeded: (levels[k] >> UInt64(bit)) & 1) << k }
            return count
        }
    }

    /// The number of bits in which two fingerprints differ.
    public static func distance(_ a: UInt64, _ b: UInt64) -> Int {
        (a ^ b).nonzeroBitCount
    }

    /// The distance between two fingerprints written as 16 hex digits; nil if either is not one.
    public static func distance(_ a: String, _ b: String) -> Int? {
        guard a.utf8.count == 16, b.utf8.count == 16, let x = UInt64(a, radix: 16), let y = UInt64(b, radix: 16) else {
            return nil
        }
        return distance(x, y)
    }

    /// 16 lower-case hex digits, zero-padded.
    public static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// SplitMix64's finalizer: spreads every input bit over the whole word.
    @inline(__always)
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
