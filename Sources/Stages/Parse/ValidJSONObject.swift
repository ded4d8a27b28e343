/// The members of a JSON object already known to be valid, found without validating it again.
enum ValidJSONObject {
    /// Calls `body` with each member's key range (inside its quotes) and the index its value
    /// starts at; `body` returns the index just past the value (``valueEnd(_:from:)`` finds it,
    /// or `body` reads the value itself and knows), or nil when it is not of the expected shape.
    /// False when `bytes` is not an object of the expected shape (the caller then decodes it the
    /// slow way, which names what is wrong).
    static func forEachMember(of bytes: UnsafeBufferPointer<UInt8>, _ body: (_ key: Range<Int>, _ valueStart: Int) -> Int?) -> Bool {
        let count = bytes.count
        var i = skipSpace(bytes, 0)
        guard i < count, bytes[i] == UInt8(ascii: "{") else { return false }
        i = skipSpace(bytes, i + 1)
        if i < count && bytes[i] == UInt8(ascii: "}") { return skipSpace(bytes, i + 1) == count }
        while true {
            guard i < count, bytes[i] == UInt8(ascii: "\""), let keyEnd = stringEnd(bytes, from: i) else { return false }
            let key = i + 1..<keyEnd - 1
            i = skipSpace(bytes, keyEnd)
            guard i < count, bytes[i] == UInt8(ascii: ":") else { return false }
            i = skipSpace(bytes, i + 1)
            guard i < count, let valueEnd = body(key, i), valueEnd <= count else { return false }
            i = skipSpace(bytes, valueEnd)
            guard i < count else { return false }
            if bytes[i] == UInt8(ascii: "}") { return skipSpace(bytes, i + 1) == count }
            guard bytes[i] == UInt8(ascii: ",") else { return false }
            i = skipSpace(bytes, i + 1)
        }
    }

    private static func skipSpace(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
        return i
    }

    /// Just past the closing quote of the string opening at `start`.
    static func stringEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start + 1
        while true {
            i = nextQuoteOrBackslash(bytes, from: i)
            guard i < bytes.count else { return nil }
            if bytes[i] == 0x22 { return i + 1 }
            i += 2  // an escape: `\"`, `\\`, `\u…` (its hex digits are plain)
        }
    }

    /// The index of the next `"` or `\\` at or after `start`, or the count: eight bytes at a time,
    /// the first match in a word found from its lowest marked byte (a borrow can mark a byte
    /// wrongly only above a byte marked rightly).
    static func nextQuoteOrBackslash(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let base = UnsafeRawPointer(bytes.baseAddress!)
        let count = bytes.count
        var i = start
        while i + 8 <= count {
            let found = quotesOrBackslashes(base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            if found != 0 { return i + found.trailingZeroBitCount >> 3 }
            i += 8
        }
        while i < count && bytes[i] != 0x22 && bytes[i] != 0x5C { i += 1 }
        return i
    }

    /// The bytes of eight (read little-endian) that are `"` or `\\`, as their high bits; the
    /// lowest is exact, as ``nextQuoteOrBackslash(_:from:)`` needs.
    @inline(__always) static func quotesOrBackslashes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        return ((quote &- ones) & ~quote & highs) | ((backslash &- ones) & ~backslash & highs)
    }

    /// Just past the value starting at `start`.
    static func valueEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return stringEnd(bytes, from: start)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var i = start
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    guard let end = stringEnd(bytes, from: i) else { return nil }
                    i = end
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return i + 1 }
                default: break
                }
                i += 1
            }
            return nil
        default:
            var i = start
            while i < bytes.count {
                switch bytes[i] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09: return i
                default: i += 1
                }
            }
            return i
        }
    }
}
