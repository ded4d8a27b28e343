import RunnelProtocol

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
        FNV1a.hash(bytes)
    }
}
