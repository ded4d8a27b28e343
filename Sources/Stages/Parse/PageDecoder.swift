import CJSONScan
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
    /// its closing quote.
    ///
    /// The bytes up to the next quote or backslash are copied sixteen at a time, and the one-byte
    /// escapes written where they are (`runnel_json_unescape_run`): an HTML page has an escape
    /// every fifteen bytes or so, and a `memmove` for each run between them was a tenth of
    /// parse's time with the search (issue 15). `\u` escapes are read here.
    static func unescape(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (text: [UInt8], end: Int) {
        var end = bytes.count
        // Unescaped text is never longer than its JSON: every escape is at least as long as
        // the UTF-8 it stands for.
        let text = [UInt8](unsafeUninitializedCapacity: bytes.count - start) { out, written in
            var index = start
            while true {
                var run = 0
                index += runnel_json_unescape_run(bytes.baseAddress! + index, bytes.count - index, out.baseAddress! + written, &run)
                written += run
                // (An escape cut short cannot occur in checked JSON; it ends the text, not the process.)
                guard index + 6 <= bytes.count, bytes[index] == UInt8(ascii: "\\") else {
                    end = min(index + 1, bytes.count)
                    return
                }
                let (scalar, length) = JSONString.unicodeEscape(bytes, at: index + 2)
                index += 2 + length
                for byte in UTF8.encode(scalar)! {
                    out[written] = byte
                    written += 1
                }
            }
        }
        return (text, end)
    }
}
