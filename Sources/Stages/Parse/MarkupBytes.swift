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
