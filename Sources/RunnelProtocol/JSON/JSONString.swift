import CJSONScan
import Glibc
/// Reading and writing JSON strings without Foundation, for the envelope's hot path.
public enum JSONString {
    /// Decodes the contents of a scanned string (the bytes between the quotes).
    /// The scanner has already validated escapes and UTF-8.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let inside = UnsafeBufferPointer(rebasing: bytes[range])
        guard let base = inside.baseAddress, memchr(base, 0x5C, inside.count) != nil else {
            return String(decoding: inside, as: UTF8.self)
        }
        return String(unsafeUninitializedCapacity: inside.count) { out in unescape(inside, into: out).written }
    }

    /// Unescapes checked JSON string text into `out`, up to the end of `text` or its first
    /// unescaped quote (the string's end, when `text` runs on past it). Returns how many bytes
    /// it wrote and where it stopped in `text` (at that quote, or `text.count`).
    ///
    /// `out` has room for `text.count` bytes: no escape is shorter than the UTF-8 it stands for.
    /// The bytes up to the next quote or backslash are copied sixteen at a time, and the one-byte
    /// escapes written where they are (`runnel_json_unescape_run`): an HTML page has an escape
    /// every fifteen bytes or so, and a `memmove` for each run between them was a tenth of
    /// parse's time with the search (issue 15). `\u` escapes are read here.
    public static func unescape(_ text: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> (written: Int, end: Int) {
        guard let base = text.baseAddress, let target = out.baseAddress else { return (0, 0) }
        precondition(out.count >= text.count, "room for the unescaped text")
        var index = 0
        var written = 0
        while true {
            var run = 0
            index += runnel_json_unescape_run(base + index, text.count - index, target + written, &run)
            written += run
            // (An escape cut short cannot occur in checked JSON; it ends the text, not the process.)
            guard index + 6 <= text.count, text[index] == UInt8(ascii: "\\") else { return (written, index) }
            let (scalar, length) = unicodeEscape(text, at: index + 2)
            index += 2 + length
            UTF8.encode(scalar) { byte in
                target[written] = byte
                written += 1
            }
        }
    }

    /// The byte a backslash and `escape` stand for (`n` → line feed, `"` → `"`), or nil for `u`
    /// (``unicodeEscape(_:at:)``) and for what is no escape.
    @inlinable @inline(__always) public static func unescapedByte(_ escape: UInt8) -> UInt8? {
        switch escape {
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "t"): 0x09
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): escape
        default: nil
        }
    }

    /// The scalar of a `\u` escape whose four hex digits (checked already) start at `index`, and
    /// how many bytes from `index` it took: a high surrogate followed by `\u` and a low one is
    /// one scalar (10 bytes); a lone surrogate is U+FFFD.
    public static func unicodeEscape(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> (Unicode.Scalar, length: Int) {
        var unit = hex4(bytes, index)
        var length = 4
        if (0xD800...0xDBFF).contains(unit), index + 10 <= bytes.count,
            bytes[index + 4] == UInt8(ascii: "\\"), bytes[index + 5] == UInt8(ascii: "u")
        {
            let low = hex4(bytes, index + 6)
            if (0xDC00...0xDFFF).contains(low) {
                unit = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                length = 10
            }
        }
        return (Unicode.Scalar(unit) ?? "\u{FFFD}", length)
    }

    private static func hex4(_ s: UnsafeBufferPointer<UInt8>, _ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | UInt32(JSONScanner.hexValue(s[i + k]) ?? 0) }
        return v
    }

    /// Appends `string` as a quoted JSON string, escaping only what JSON requires: `"`, `\`
    /// and the control characters (the five with a short escape by it, the rest as `\u00XX`).
    public static func append(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { append(utf8: $0, to: &out) }
    }

    /// ``append(_:to:)`` for text that is already UTF-8 bytes (valid UTF-8: they are copied as
    /// they are, but for the escapes).
    ///
    /// The text is counted first (``encodedCount(utf8:)``, sixteen bytes at a time), then written
    /// straight into the array's new room: a block is stored whole and the write moves on to its
    /// first byte that needs an escape, if any. A page's html has a quote or a line break every
    /// few dozen bytes; appending the runs between them one by one cost a fetch more CPU than
    /// inflating the page did (issue 14).
    /// - Parameter encodedCount: the text's ``encodedCount(utf8:)``, when the caller has it
    ///   already (to reserve room for a whole message exactly).
    public static func append(utf8: UnsafeBufferPointer<UInt8>, encodedCount: Int? = nil, to out: inout [UInt8]) {
        let encoded = encodedCount ?? Self.encodedCount(utf8: utf8)
        // Doubling at the least, as appending does, so that many short strings stay linear.
        let needed = out.count + encoded
        if out.capacity < needed { out.reserveCapacity(max(needed, 2 * out.capacity)) }
        out.append(addingCapacity: encoded) { span in
            span.withUnsafeMutableBufferPointer { room, written in
                written = write(utf8, into: UnsafeMutableRawPointer(room.baseAddress!))
            }
        }
    }

    /// Writes `utf8` quoted and escaped at `out`, which has room for ``encodedCount(utf8:)``
    /// bytes; returns how many it wrote (that count). The inside is written sixteen bytes at a
    /// time, each block stored whole and the write moved on to its first byte that needs an
    /// escape (`runnel_json_escape`).
    private static func write(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawPointer) -> Int {
        let target = out.assumingMemoryBound(to: UInt8.self)
        target[0] = UInt8(ascii: "\"")
        let written = utf8.baseAddress.map { runnel_json_escape($0, utf8.count, target + 1) } ?? 0
        target[written + 1] = UInt8(ascii: "\"")
        return written + 2
    }

    /// How many bytes ``append(_:to:)`` writes for `string`, quotes included: to reserve room
    /// for a long text exactly, not by doubling (which leaves a page's body holding up to twice
    /// its size for as long as the message lives).
    ///
    /// ```swift
    /// JSONString.encodedCount(of: "a\"b\n")  // 8: "a\"b\n" in quotes
    /// ```
    public static func encodedCount(of string: String) -> Int {
        var string = string
        return string.withUTF8 { encodedCount(utf8: $0) }
    }

    /// ``encodedCount(of:)`` for text that is already UTF-8 bytes.
    ///
    /// Sixteen bytes at a time (`runnel_json_escaped_length`): each byte to escape adds one (its
    /// backslash), and each control character without a short escape four more (`\u00XX`).
    public static func encodedCount(utf8: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = utf8.baseAddress else { return 2 }
        return runnel_json_escaped_length(base, utf8.count) + 2
    }

    /// Appends a decimal integer.
    ///
    /// The digits are written straight into the line: `String(value)` went through the standard
    /// library's generic `description(radix:)` for every `seq`, `attempt` and `deadline_ms` a
    /// link writes (issue 14).
    static func append(_ value: some BinaryInteger, to out: inout [UInt8]) {
        guard let magnitude = UInt64(exactly: value.magnitude) else {
            out.append(contentsOf: String(value).utf8)  // wider than 64 bits: none on the wire
            return
        }
        if value < 0 { out.append(UInt8(ascii: "-")) }
        // UInt64.max has 20 digits; they are made last first, at the end of the buffer.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var rest = magnitude
            var first = digits.count
            repeat {
                first -= 1
                digits[first] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            out.append(contentsOf: digits[first...])
        }
    }
}

extension Array where Element == UInt8 {
    /// Appends a literal's UTF-8 bytes: a copy of a static buffer, where appending a `String`'s
    /// `utf8` went through the generic sequence append, ~165 instructions for a five-byte key
    /// (issue 14: seven of them in every message a link writes).
    @inline(__always)
    mutating func appendLiteral(_ text: StaticString) {
        text.withUTF8Buffer { append(contentsOf: $0) }
    }
}
