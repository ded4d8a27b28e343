import Glibc
import RunnelProtocol

/// Decodes a `page.fetched` body, unescaping the (large) `html` string directly from the raw
/// bytes and leaving only the small fields to `JSONDecoder`.
///
/// Foundation's decoder takes its slow path on strings full of escapes (`\"`, `\n`), which HTML
/// always is; this halves the cost of reading a page. Anything unusual (no `html` string, a
/// syntax error) goes to ``RawJSON/decode(_:)``, whose errors name the field at fault.
enum PageDecoder {
    private static let htmlKey = Array("html".utf8)

    /// The page in `body`.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` naming the field, as ``RawJSON/decode(_:)`` does.
    static func decode(_ body: RawJSON) throws(RunnelError) -> PageFetched {
        var html: String?
        var rest: [UInt8] = [UInt8(ascii: "{")]
        let scanned: Bool = body.bytes.withUnsafeBufferPointer { buffer in
            // The body is valid JSON (``RawJSON``'s promise, checked when the line was read), so
            // the members are found without validating them again: the html string's end by
            // `memchr` for quotes, not byte by byte.
            ValidJSONObject.forEachMember(of: buffer) { key, value in
                if html == nil, buffer[key].elementsEqual(htmlKey), buffer[value.lowerBound] == UInt8(ascii: "\"") {
                    html = unescape(buffer, value.lowerBound + 1..<value.upperBound - 1)
                } else {
                    if rest.count > 1 { rest.append(UInt8(ascii: ",")) }
                    rest.append(contentsOf: buffer[key.lowerBound - 1..<key.upperBound + 1])
                    rest.append(UInt8(ascii: ":"))
                    rest.append(contentsOf: buffer[value])
                }
            }
        }
        guard scanned, let html else { return try body.decode(PageFetched.self) }
        if rest.count > 1 { rest.append(UInt8(ascii: ",")) }
        rest.append(contentsOf: Array(#""html":""}"#.utf8))
        var page = try RawJSON(validated: rest).decode(PageFetched.self)
        page.html = html
        return page
    }

    /// The text of a JSON string's inside (already validated by ``JSONScanner``).
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(range.count)
        var index = range.lowerBound
        var runStart = index
        while index < range.upperBound {
            // The next backslash; the bytes before it are copied as they are.
            guard let found = memchr(bytes.baseAddress! + index, 0x5C, range.upperBound - index) else { break }
            index = UnsafeRawPointer(found) - UnsafeRawPointer(bytes.baseAddress!)
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            let escape = bytes[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                var scalar = hex4(bytes, index)
                index += 4
                if (0xD800..<0xDC00).contains(scalar), index + 6 <= range.upperBound, bytes[index] == UInt8(ascii: "\\"),
                    bytes[index + 1] == UInt8(ascii: "u")
                {
                    let low = hex4(bytes, index + 2)
                    if (0xDC00..<0xE000).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        index += 6
                    }
                }
                let value = Unicode.Scalar(scalar) ?? "\u{FFFD}"
                out.append(contentsOf: UTF8.encode(value)!)
            default: out.append(escape)  // \" \\ \/
            }
            runStart = index
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<range.upperBound]))
        return String(decoding: out, as: UTF8.self)
    }

    private static func hex4(_ bytes: UnsafeBufferPointer<UInt8>, _ index: Int) -> UInt32 {
        var value: UInt32 = 0
        for offset in 0..<4 {
            let byte = bytes[index + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: digit = byte - UInt8(ascii: "A") + 10
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}
