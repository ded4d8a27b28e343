/// Scalars read from UTF-8 already known to be valid (a `String`'s bytes, a checked line's): the
/// lead byte says how many bytes follow, and nothing is checked again, where the standard
/// library's decoding checks every byte (issue 14: folding, the fingerprint's neighbours and the
/// tokenizer read a text's scalars this way).
///
/// ```swift
/// var text = "Đà"
/// text.withUTF8 { ValidUTF8.scalar($0, at: 0) }   // (0x110, 2)
/// ```
public enum ValidUTF8 {
    /// The scalar value of the sequence of valid UTF-8 `utf8` that starts at `i`, and its length
    /// in bytes.
    @inlinable @inline(__always)
    public static func scalar(_ utf8: UnsafeBufferPointer<UInt8>, at i: Int) -> (value: UInt32, length: Int) {
        let lead = utf8[i]
        if lead < 0x80 {
            return (UInt32(lead), 1)
        } else if lead < 0xE0 {
            return (UInt32(lead & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F), 2)
        } else if lead < 0xF0 {
            return (UInt32(lead & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F), 3)
        }
        return (
            UInt32(lead & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6
                | UInt32(utf8[i + 3] & 0x3F), 4
        )
    }
}
