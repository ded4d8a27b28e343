import Glibc

/// The byte tests and the search the markup readers share (``HTMLTokenizer``, ``TreeBuilder``,
/// ``MarkupScan``): ASCII only, as HTML's tokenizer defines its letters and whitespace.
enum MarkupBytes {
    @inline(__always) static func isLetter(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
    /// Space, tab, line feed, form feed or carriage return.
    @inline(__always) static func isWhitespace(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0C || b == 0x0D
    }

    /// The index of the next `byte` in `bytes` at or after `start` (`memchr`), or nil.
    static func find(_ byte: UInt8, in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + start, Int32(byte), bytes.count - start) else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }
}

/// Tests on eight bytes at once (a little-endian `UInt64` loaded from the page), each answered as
/// the high bit of every byte it holds for. Every sum stays within its byte, so the answer is
/// exact for each byte, not only the first (the common `haszero` trick lets a borrow mark the
/// bytes above a hit).
enum WordBytes {
    @inline(__always) static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inline(__always) static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// The bytes of `word` that are zero.
    @inline(__always) static func zero(_ word: UInt64) -> UInt64 {
        ~(((word & ~highs) &+ ~highs) | word) & highs
    }

    /// The bytes of `word` equal to `byte`.
    @inline(__always) static func equal(_ word: UInt64, to byte: UInt8) -> UInt64 {
        zero(word ^ (ones &* UInt64(byte)))
    }

    /// The bytes of `word` below 0x20 (control characters).
    @inline(__always) static func control(_ word: UInt64) -> UInt64 {
        ~(((word & ~highs) &+ ones &* 0x60) | word) & highs
    }

    /// How many bytes of `word` are UTF-8 continuation bytes (`10xxxxxx`).
    @inline(__always) static func continuationCount(_ word: UInt64) -> Int {
        (word & ~(word << 1) & highs).nonzeroBitCount
    }

    /// The index of the first byte marked in `marks` (nonzero), for a word loaded little-endian.
    @inline(__always) static func first(_ marks: UInt64) -> Int { marks.trailingZeroBitCount / 8 }
}
