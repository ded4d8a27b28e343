import Glibc

extension StringProtocol {
    /// The string without leading and trailing whitespace (ASCII, NBSP and line breaks).
    func trimmingSpaces() -> String {
        let string = String(self)
        let utf8 = string.utf8
        if let first = utf8.first, let last = utf8.last, first > 0x20, first < 0x80, last > 0x20, last < 0x80 {
            return string
        }
        let scalars = string.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        // A copy of the UTF-8 between (building a view scalar by scalar cost a JSON-LD script,
        // which starts with a line break, 1 % of parse's CPU).
        return String(scalars[first...last])
    }

    /// The string with every run of whitespace (Unicode White_Space, and U+200B) turned into
    /// one space, trimmed, and soft hyphens, word joiners and BOMs left out. Works on the UTF-8
    /// bytes: those code points are recognised by their encodings, everything else is copied as
    /// it is.
    func collapsingWhitespace() -> String {
        var source = String(self)
        return source.withUTF8 { bytes -> String in
            var out = [UInt8]()
            out.reserveCapacity(bytes.count)
            var pendingSpace = false
            var i = 0
            let count = bytes.count
            while i < count {
                let invisible = invisibleWidth(bytes, i)
                if invisible > 0 {
                    i += invisible
                    continue
                }
                let width = whitespaceWidth(bytes, i)
                if width > 0 {
                    pendingSpace = !out.isEmpty
                    i += width
                    continue
                }
                if pendingSpace { out.append(0x20) }
                pendingSpace = false
                out.append(bytes[i])
                i += 1
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

/// The byte length of the invisible code point starting at `i` that text leaves out (a soft
/// hyphen U+00AD, the word joiner U+2060, U+FEFF), or 0.
@inline(__always)
private func invisibleWidth(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    switch bytes[i] {
    case 0xC2: return i + 1 < bytes.count && bytes[i + 1] == 0xAD ? 2 : 0
    case 0xE2: return i + 2 < bytes.count && bytes[i + 1] == 0x81 && bytes[i + 2] == 0xA0 ? 3 : 0
    case 0xEF: return i + 2 < bytes.count && bytes[i + 1] == 0xBB && bytes[i + 2] == 0xBF ? 3 : 0
    default: return 0
    }
}

/// The byte length of the whitespace code point (White_Space, or U+200B) starting at `i`, or 0.
@inline(__always)
private func whitespaceWidth(_ bytes: UnsafeBufferPointer<UInt8>, _ i: Int) -> Int {
    let byte = bytes[i]
    if byte < 0x80 { return byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) ? 1 : 0 }
    switch byte {
    case 0xC2:  // U+0085, U+00A0
        return i + 1 < bytes.count && (bytes[i + 1] == 0x85 || bytes[i + 1] == 0xA0) ? 2 : 0
    case 0xE1:  // U+1680
        return i + 2 < bytes.count && bytes[i + 1] == 0x9A && bytes[i + 2] == 0x80 ? 3 : 0
    case 0xE2:
        guard i + 2 < bytes.count else { return 0 }
        let b1 = bytes[i + 1]
        let b2 = bytes[i + 2]
        if b1 == 0x80 && (b2 <= 0x8B || b2 == 0xA8 || b2 == 0xA9 || b2 == 0xAF) && b2 >= 0x80 { return 3 }  // U+2000–200B, 2028, 2029, 202F
        if b1 == 0x81 && b2 == 0x9F { return 3 }  // U+205F
        return 0
    case 0xE3:  // U+3000
        return i + 2 < bytes.count && bytes[i + 1] == 0x80 && bytes[i + 2] == 0x80 ? 3 : 0
    default:
        return 0
    }
}

extension String {
    /// How many Unicode scalars the string holds, as `unicodeScalars.count`, counted on its UTF-8
    /// bytes eight at a time (every scalar has exactly one byte that is not a continuation byte,
    /// `10xxxxxx`). The extractor measures text lengths in scalars over and over.
    var scalarCount: Int {
        var string = self
        return string.withUTF8 { bytes in
            guard let base = UnsafeRawPointer(bytes.baseAddress) else { return 0 }
            var continuations = 0
            var i = 0
            while i + 8 <= bytes.count {
                continuations += WordBytes.continuationCount(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                i += 8
            }
            while i < bytes.count {
                if bytes[i] & 0xC0 == 0x80 { continuations += 1 }
                i += 1
            }
            return bytes.count - continuations
        }
    }
}

extension StringProtocol {
    /// Whether the string's UTF-8 holds `other`'s, byte for byte (glibc's `strstr`, linear in
    /// both). Foundation's `contains` goes through `NSString` and compares by canonical
    /// equivalence, a hundred times slower on a page's titles and attributes; on text in one
    /// normal form (fetch decodes pages to NFC) the two agree. An empty `other` is not found,
    /// as with Foundation's.
    func containsBytes(of other: some StringProtocol) -> Bool {
        guard !other.isEmpty else { return false }
        // A C string ends at a NUL: text that holds one is searched the slow way.
        guard !utf8.contains(0), !other.utf8.contains(0) else { return contains(other) }
        return String(self).withCString { whole in String(other).withCString { part in strstr(whole, part) != nil } }
    }
}
