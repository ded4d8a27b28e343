import Glibc
import RunnelProtocol

/// A `page.fetched` as parse reads it: the small fields, and the html as UTF-8 bytes.
///
/// The html is never made a `String`: building one validates all of its UTF-8 again, and the
/// parser reads bytes anyway. It is valid UTF-8 already, because every line is checked when it is
/// read (``JSONScanner`` validates the UTF-8 of strings) and the escapes are decoded into valid
/// scalars here.
struct DecodedPage {
    /// The page's fields, with an empty `html`.
    var fields: PageFetched
    /// The page's html, UTF-8.
    var html: [UInt8]

    /// The whole page, its html made a `String`.
    var page: PageFetched {
        var page = fields
        page.html = String(decoding: html, as: UTF8.self)
        return page
    }
}

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
    static func decode(_ body: RawJSON) throws(RunnelError) -> DecodedPage {
        var html: [UInt8]?
        var rest: [UInt8] = [UInt8(ascii: "{")]
        let scanned: Bool = body.bytes.withUnsafeBufferPointer { buffer in
            // The body is valid JSON (``RawJSON``'s promise, checked when the line was read), so
            // the members are found without validating them again, and the html string is
            // unescaped in the same pass that finds its end.
            ValidJSONObject.forEachMember(of: buffer) { key, valueStart in
                if html == nil, buffer[key].elementsEqual(htmlKey), buffer[valueStart] == UInt8(ascii: "\"") {
                    let (text, end) = unescape(buffer, from: valueStart + 1)
                    html = text
                    return end
                }
                guard let end = ValidJSONObject.valueEnd(buffer, from: valueStart) else { return nil }
                if rest.count > 1 { rest.append(UInt8(ascii: ",")) }
                rest.append(contentsOf: buffer[key.lowerBound - 1..<key.upperBound + 1])
                rest.append(UInt8(ascii: ":"))
                rest.append(contentsOf: buffer[valueStart..<end])
                return end
            }
        }
        guard scanned, let html else {
            var page = try body.decode(PageFetched.self)
            let html = Array(page.html.utf8)
            page.html = ""
            return DecodedPage(fields: page, html: html)
        }
        if rest.count > 1 { rest.append(UInt8(ascii: ",")) }
        rest.append(contentsOf: Array(#""html":""}"#.utf8))
        return DecodedPage(fields: try RawJSON(validated: rest).decode(PageFetched.self), html: html)
    }

    /// The text of the valid JSON string whose inside starts at `start`, and the index just past
    /// its closing quote (``JSONString/unescape(_:into:)``).
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (text: [UInt8], end: Int) {
        let rest = UnsafeBufferPointer(rebasing: bytes[start...])
        var end = bytes.count
        let text = [UInt8](unsafeUninitializedCapacity: rest.count) { out, written in
            let (count, quote) = JSONString.unescape(rest, into: out)
            written = count
            end = min(start + quote + 1, bytes.count)
        }
        return (text, end)
    }
}
