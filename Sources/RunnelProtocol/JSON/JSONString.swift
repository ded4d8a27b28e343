/// Reading and writing JSON strings without Foundation, for the envelope's hot path.
public enum JSONString {
    /// Decodes the contents of a scanned string (the bytes between the quotes).
    /// The scanner has already validated escapes and UTF-8.
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        let slice = UnsafeBufferPointer(rebasing: bytes[range])
        if !slice.contains(UInt8(ascii: "\\")) {
            return String(decoding: slice, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        var out: [UInt8] = []
        out.reserveCapacity(slice.count)
        var i = 0
        func flushBytes() {
            if !out.isEmpty {
                scalars.append(contentsOf: String(decoding: out, as: UTF8.self).unicodeScalars)
                out.removeAll(keepingCapacity: true)
            }
        }
        while i < slice.count {
            let b = slice[i]
            guard b == UInt8(ascii: "\\") else {
                out.append(b)
                i += 1
                continue
            }
            let e = slice[i + 1]
            i += 2
            if let byte = unescapedByte(e) {
                out.append(byte)
            } else {
                let (scalar, length) = unicodeEscape(slice, at: i)
                i += length
                flushBytes()
                scalars.append(scalar)
            }
        }
        flushBytes()
        return String(scalars)
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
    public static func append(utf8: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        let count = utf8.count
        // Room for the text and its closing quote at once, so that a long text is not copied
        // again at each doubling (escapes may still take more); doubling at the least, as
        // appending does, so that many short strings stay linear.
        let needed = out.count + count + 1
        if out.capacity < needed { out.reserveCapacity(max(needed, 2 * out.capacity)) }
        let base = UnsafeRawPointer(utf8.baseAddress)
        var run = 0
        var i = 0
        while i < count {
            // Skip eight bytes at a time while none needs an escape.
            if let base {
                while i + 8 <= count, !needsEscape(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
            }
            guard i < count else { break }
            let byte = utf8[i]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else {
                i += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<i]))
            appendEscape(of: byte, to: &out)
            i += 1
            run = i
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<count]))
        out.append(UInt8(ascii: "\""))
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
    public static func encodedCount(utf8: UnsafeBufferPointer<UInt8>) -> Int {
        let count = utf8.count
        var total = count + 2
        let base = UnsafeRawPointer(utf8.baseAddress)
        var i = 0
        while i < count {
            if let base {
                while i + 8 <= count, !needsEscape(base.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
            }
            guard i < count else { break }
            total += escapeLength(of: utf8[i]) - 1
            i += 1
        }
        return total
    }

    /// The bytes ``appendEscape(of:to:)`` writes for `byte` (1 for a byte that needs none).
    @inline(__always) private static func escapeLength(of byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 2
        case ..<0x20: return 6
        default: return 1
        }
    }

    private static func appendEscape(of byte: UInt8, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(byte)
        case 0x0A: out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(UInt8(ascii: "r"))
        case 0x09: out.append(UInt8(ascii: "t"))
        case 0x08: out.append(UInt8(ascii: "b"))
        case 0x0C: out.append(UInt8(ascii: "f"))
        default:
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { hex in
                out.append(UInt8(ascii: "u"))
                out.append(0x30)
                out.append(0x30)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0xF)])
            }
        }
    }

    /// Whether any of eight bytes is `"`, `\` or below 0x20.
    @inline(__always) private static func needsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ x: UInt64) -> Bool { (x &- ones) & ~x & highs != 0 }
        // A byte below 0x20: subtracting 0x20 borrows into its high bit, unless it was ≥ 0x80.
        let control = (word &- ones &* 0x20) & ~word & highs != 0
        return control || hasZero(word ^ (ones &* 0x22)) || hasZero(word ^ (ones &* 0x5C))
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
