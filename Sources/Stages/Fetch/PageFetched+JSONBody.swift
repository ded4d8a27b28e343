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
        // Exactly the room the page takes escaped, and enough for the other fields (URLs escaped
        // at most sixfold): the body lives as long as the message (in a link's window until it
        // is acked, counted by its size), so it must not be an array that doubled past its size
        // when the escapes ran over, as it did with a reserve of the page's size plus 1 KB.
        var others = 1024 + 6 * (url.utf8.count + (finalURL?.utf8.count ?? 0))
        others += 6 * ((contentType?.utf8.count ?? 0) + (charset?.utf8.count ?? 0))
        for redirect in redirects ?? [] { others += 6 * redirect.utf8.count + 1 }
        for (name, value) in headers ?? [:] { others += 6 * (name.utf8.count + value.utf8.count) + 6 }
        out.reserveCapacity(JSONString.encodedCount(of: html) + others)
        out.append(UInt8(ascii: "{"))
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.append(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        // In the order of the keys' names, as `.sortedKeys` writes them.
        if let charset {
            key("charset")
            JSONString.append(charset, to: &out)
        }
        if let contentType {
            key("content_type")
            JSONString.append(contentType, to: &out)
        }
        if let elapsedMs {
            key("elapsed_ms")
            out.append(contentsOf: String(elapsedMs).utf8)
        }
        if let fetchedAt {
            key("fetched_at")
            JSONString.append(fetchedAt, to: &out)
        }
        if let finalURL {
            key("final_url")
            JSONString.append(finalURL, to: &out)
        }
        if let headers {
            key("headers")
            out.append(UInt8(ascii: "{"))
            for (index, name) in headers.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(name, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.append(headers[name]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        key("html")
        JSONString.append(html, to: &out)
        if let redirects {
            key("redirects")
            out.append(UInt8(ascii: "["))
            for (index, redirect) in redirects.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(redirect, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        key("status")
        out.append(contentsOf: String(status).utf8)
        key("url")
        JSONString.append(url, to: &out)
        out.append(UInt8(ascii: "}"))
        return RawJSON(validated: out)
    }
}
