/// 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime 0x100000001b3): a fast hash of bytes
/// that is the same in every process and on every host (no seed), for fingerprints that are
/// stored or compared across machines and for tables keyed by bytes. Not cryptographic.
///
/// ```swift
/// FNV1a.hash("a".utf8)                             // 0xaf63dc4c8601ec8c
/// FNV1a.adding(UInt8(ascii: "b"), to: FNV1a.hash("a".utf8)) == FNV1a.hash("ab".utf8)
/// ```
public enum FNV1a {
    /// The hash of no bytes, where every hash starts.
    @inlinable public static var offsetBasis: UInt64 { 0xCBF2_9CE4_8422_2325 }

    /// `hash` with one more byte fed to it.
    @inlinable @inline(__always)
    public static func adding(_ byte: UInt8, to hash: UInt64) -> UInt64 {
        (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    /// The hash of `bytes`.
    @inlinable @inline(__always)
    public static func hash(_ bytes: some Sequence<UInt8>) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes { hash = adding(byte, to: hash) }
        return hash
    }
}
