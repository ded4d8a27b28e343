/// A set of lower-case words, looked up by a token's precomputed hash instead of by string
/// (String hashing normalizes Unicode, which costs more than the rest of a look-up).
///
/// ```swift
/// let stop = WordSet(["và", "của"])
/// stop.contains(token)   // by token.key
/// stop.contains("và")    // by string
/// ```
struct WordSet: Sendable {
    private var hashes: Set<UInt64> = []

    /// A set of `words` (lower case, as the tokenizer lower-cases them).
    init<S: Sequence>(_ words: S) where S.Element == String {
        for word in words { hashes.insert(WordHash.of(word)) }
    }

    /// Whether the token's lower-case form is in the set.
    @inline(__always)
    func contains(_ token: Token) -> Bool { hashes.contains(token.key) }

    /// Whether `word` (lower case) is in the set.
    func contains(_ word: String) -> Bool { hashes.contains(WordHash.of(word)) }

    /// Adds the words of `other`.
    mutating func formUnion(_ other: WordSet) { hashes.formUnion(other.hashes) }
}

/// The 64-bit FNV-1a hash of a word's UTF-8: stable across processes and hosts (no seed), so
/// SimHash fingerprints made from it compare anywhere.
enum WordHash {
    /// The hash of `word`.
    @inline(__always)
    static func of(_ word: String) -> UInt64 {
        var word = word
        return word.withUTF8 { of($0) }
    }

    /// The hash of a sequence of words, from their hashes in order (SplitMix64's finalizer).
    @inline(__always)
    static func combine(_ seed: UInt64, _ word: UInt64) -> UInt64 {
        var z = (seed ^ word) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// The hash of UTF-8 bytes.
    @inline(__always)
    static func of(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01B3
        }
        return hash
    }
}
