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
    ///
    /// The text is counted first (``encodedCount(utf8:)``, a word at a time), then written
    /// straight into the array's new room: a word is stored whole and the write moves on to its
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
    /// bytes; returns how many it wrote (that count).
    private static func write(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableRawPointer) -> Int {
        var to = 0
        out.storeBytes(of: UInt8(ascii: "\""), toByteOffset: to, as: UInt8.self)
        to += 1
        let count = utf8.count
        var from = 0
        if let base = UnsafeRawPointer(utf8.baseAddress) {
            // While eight bytes are left to read, eight are left to write (each byte is written
            // as one or more): the word fits, whatever of it the escape then overwrites.
            // (`PageDecoder.unescape` reads with a loop of this shape; one helper for both made
            // this one 20 % slower, so each keeps its own.)
            while from + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: from, as: UInt64.self)
                out.storeBytes(of: word, toByteOffset: to, as: UInt64.self)
                let special = escapedBytes(word)
                if special == 0 {
                    from += 8
                    to += 8
                    continue
                }
                let clean = special.trailingZeroBitCount >> 3
                to += clean
                to += writeEscape(of: utf8[from + clean], at: out + to)
                from += clean + 1
            }
        }
        while from < count {
            let byte = utf8[from]
            if escapeLength(of: byte) == 1 {
                out.storeBytes(of: byte, toByteOffset: to, as: UInt8.self)
                to += 1
            } else {
                to += writeEscape(of: byte, at: out + to)
            }
            from += 1
        }
        out.storeBytes(of: UInt8(ascii: "\""), toByteOffset: to, as: UInt8.self)
        return to + 1
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
    /// Eight bytes at a time, without a branch for what they hold: each byte to escape adds one
    /// (its backslash), and each control character without a short escape four more (`\u00XX`).
    public static func encodedCount(utf8: UnsafeBufferPointer<UInt8>) -> Int {
        let count = utf8.count
        var total = count + 2
        var i = 0
        if let base = UnsafeRawPointer(utf8.baseAddress) {
            while i + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
                i += 8
                let controls = exactZeroBytes(word & (ones &* 0xE0))
                let short = exactZeroBytes(word ^ (ones &* 0x0A)) | exactZeroBytes(word ^ (ones &* 0x09))
                    | exactZeroBytes(word ^ (ones &* 0x0D)) | exactZeroBytes(word ^ (ones &* 0x08))
                    | exactZeroBytes(word ^ (ones &* 0x0C))
                let escaped = controls | exactZeroBytes(word ^ (ones &* 0x22)) | exactZeroBytes(word ^ (ones &* 0x5C))
                total += markedBytes(escaped) + 4 * markedBytes(controls & ~short)
            }
        }
        while i < count {
            total += escapeLength(of: utf8[i]) - 1
            i += 1
        }
        return total
    }

    /// The bytes ``writeEscape(of:at:)`` writes for `byte` (1 for a byte that needs none).
    @inline(__always) private static func escapeLength(of byte: UInt8) -> Int {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0x0A, 0x0D, 0x09, 0x08, 0x0C: return 2
        case ..<0x20: return 6
        default: return 1
        }
    }

    /// Writes the escape of `byte` (a quote, a backslash or a control character) at `out`;
    /// returns its length.
    @inline(__always) private static func writeEscape(of byte: UInt8, at out: UnsafeMutableRawPointer) -> Int {
        out.storeBytes(of: UInt8(ascii: "\\"), as: UInt8.self)
        let short: UInt8
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): short = byte
        case 0x0A: short = UInt8(ascii: "n")
        case 0x0D: short = UInt8(ascii: "r")
        case 0x09: short = UInt8(ascii: "t")
        case 0x08: short = UInt8(ascii: "b")
        case 0x0C: short = UInt8(ascii: "f")
        default:
            // `\u00` and two lower-case hex digits: the byte is below 0x20.
            out.storeBytes(of: UInt8(ascii: "u"), toByteOffset: 1, as: UInt8.self)
            out.storeBytes(of: UInt8(ascii: "0"), toByteOffset: 2, as: UInt8.self)
            out.storeBytes(of: UInt8(ascii: "0"), toByteOffset: 3, as: UInt8.self)
            out.storeBytes(of: UInt8(ascii: "0") + (byte >> 4), toByteOffset: 4, as: UInt8.self)
            let low = byte & 0xF
            out.storeBytes(of: low < 10 ? UInt8(ascii: "0") + low : UInt8(ascii: "a") + low - 10, toByteOffset: 5, as: UInt8.self)
            return 6
        }
        out.storeBytes(of: short, toByteOffset: 1, as: UInt8.self)
        return 2
    }

    /// A one in each byte of a word, and each byte's high bit.
    private static var ones: UInt64 { 0x0101_0101_0101_0101 }
    private static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// The zero bytes of `x`, as their high bits, every one exactly (no borrow crosses bytes).
    @inline(__always) private static func exactZeroBytes(_ x: UInt64) -> UInt64 {
        let low7 = ~highs
        return ~(((x & low7) &+ low7) | x | low7)
    }

    /// How many bytes of a word have their high bit set in `marks` (high bits only): the marks
    /// brought down to ones and summed into the top byte by one multiplication (the baseline
    /// x86-64 the package builds for has no popcount instruction).
    @inline(__always) private static func markedBytes(_ marks: UInt64) -> Int {
        Int(truncatingIfNeeded: ((marks >> 7) &* ones) >> 56)
    }

    /// The bytes of eight (read little-endian) that are `"`, `\\` or a control character, as
    /// their high bits: the lowest is exact (a subtraction's borrow can mark a byte wrongly
    /// only above a byte that is marked rightly), which is the one the writer uses.
    @inline(__always) private static func escapedBytes(_ word: UInt64) -> UInt64 {
        @inline(__always) func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        // A byte below 0x20: subtracting 0x20 borrows into its high bit, unless it was ≥ 0x80.
        let control = (word &- ones &* 0x20) & ~word & highs
        return control | zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C))
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
