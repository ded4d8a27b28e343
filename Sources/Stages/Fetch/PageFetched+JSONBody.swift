import RunnelProtocol

extension PageFetched {
    /// The body of a `page.fetched` message: the JSON that `RawJSON(encoding:)` makes of it (keys
    /// sorted, absent fields left out, slashes unescaped, the short escapes where JSON has one and
    /// `\u00XX` for the other control characters), written straight into bytes.
    ///
    /// The stage emits one per page, and its `html` is tens of KB: copying it in runs of bytes
    /// that need no escape costs a fraction of what Foundation's encoder does.
    ///
    /// ```swift
    /// let body = PageFetched(url: "https://vov.vn/a.html", html: "<p>Tin</p>").jsonBody
    /// ```
    var jsonBody: RawJSON {
        var out: [UInt8] = []
        out.reserveCapacity(html.utf8.count + 1024)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            Self.appendJSON(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        // In the order of the keys' names, as `.sortedKeys` writes them.
        if let charset {
            key("charset")
            Self.appendJSON(charset, to: &out)
        }
        if let contentType {
            key("content_type")
            Self.appendJSON(contentType, to: &out)
        }
        if let elapsedMs {
            key("elapsed_ms")
            out.append(contentsOf: String(elapsedMs).utf8)
        }
        if let fetchedAt {
            key("fetched_at")
            Self.appendJSON(fetchedAt, to: &out)
        }
        if let finalURL {
            key("final_url")
            Self.appendJSON(finalURL, to: &out)
        }
        if let headers {
            key("headers")
            out.append(UInt8(ascii: "{"))
            for (index, name) in headers.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendJSON(name, to: &out)
                out.append(UInt8(ascii: ":"))
                Self.appendJSON(headers[name]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        key("html")
        Self.appendJSON(html, to: &out)
        if let redirects {
            key("redirects")
            out.append(UInt8(ascii: "["))
            for (index, redirect) in redirects.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                Self.appendJSON(redirect, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        key("status")
        out.append(contentsOf: String(status).utf8)
        key("url")
        Self.appendJSON(url, to: &out)
        out.append(UInt8(ascii: "}"))
        return RawJSON(validated: out)
    }

    /// Appends `string` quoted, escaping what JSON requires: `"`, `\` and control characters.
    static func appendJSON(_ string: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var string = string
        string.withUTF8 { utf8 in
            let count = utf8.count
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
                switch byte {
                case UInt8(ascii: "\""): out.append(contentsOf: [0x5C, 0x22])
                case UInt8(ascii: "\\"): out.append(contentsOf: [0x5C, 0x5C])
                case 0x0A: out.append(contentsOf: [0x5C, UInt8(ascii: "n")])
                case 0x0D: out.append(contentsOf: [0x5C, UInt8(ascii: "r")])
                case 0x09: out.append(contentsOf: [0x5C, UInt8(ascii: "t")])
                case 0x08: out.append(contentsOf: [0x5C, UInt8(ascii: "b")])
                case 0x0C: out.append(contentsOf: [0x5C, UInt8(ascii: "f")])
                default:
                    let hex = Array("0123456789abcdef".utf8)
                    out.append(contentsOf: [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(byte >> 4)], hex[Int(byte & 0xF)]])
                }
                i += 1
                run = i
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<count]))
        }
        out.append(UInt8(ascii: "\""))
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
}
