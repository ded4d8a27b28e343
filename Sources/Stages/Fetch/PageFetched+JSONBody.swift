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
        var html = html
        return html.withUTF8 { jsonBody(html: $0) }
    }

    /// ``jsonBody`` with `html` for the page's html (valid UTF-8 in NFC), which the stage keeps
    /// as the bytes it checked rather than as a String, whose making would check them again.
    func jsonBody(html: UnsafeBufferPointer<UInt8>) -> RawJSON {
        // Exactly the room the page takes escaped, and enough for the other fields (URLs escaped
        // at most sixfold): the body lives as long as the message (in a link's window until it
        // is acked, counted by its size), so it must not be an array that doubled past its size
        // when the escapes ran over, as it did with a reserve of the page's size plus 1 KB.
        var others = 1024 + 6 * (url.utf8.count + (finalURL?.utf8.count ?? 0))
        others += 6 * ((contentType?.utf8.count ?? 0) + (charset?.utf8.count ?? 0))
        for redirect in redirects ?? [] { others += 6 * redirect.utf8.count + 1 }
        for (name, value) in headers ?? [:] { others += 6 * (name.utf8.count + value.utf8.count) + 6 }
        let htmlCount = JSONString.encodedCount(utf8: html)
        var writer = JSONObjectWriter(reservingCapacity: htmlCount + others)
        writer.string("charset", charset)
        writer.string("content_type", contentType)
        writer.integer("elapsed_ms", elapsedMs)
        writer.string("fetched_at", fetchedAt)
        writer.string("final_url", finalURL)
        writer.stringMap("headers", headers)
        writer.string("html", utf8: html, encodedCount: htmlCount)
        writer.strings("redirects", redirects)
        writer.integer("status", status)
        writer.string("url", url)
        return writer.finish()
    }
}
