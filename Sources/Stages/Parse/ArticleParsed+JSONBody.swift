import RunnelProtocol

extension ArticleParsed {
    /// The body of an `article.parsed` message: the JSON that `RawJSON(encoding:)` makes of it
    /// (keys sorted, absent fields left out, slashes unescaped), written straight into bytes.
    ///
    /// Parse emits one per page, with the text twice (`text` and `paragraphs`): Foundation's
    /// encoder builds a tree of values first and escapes each string through `String` APIs, a
    /// few per cent of a page's parse.
    var jsonBody: RawJSON {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(2 * text.utf8.count + 2048)
        var first = true
        func key(_ name: String) {
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.append(name, to: &out)
            out.append(UInt8(ascii: ":"))
        }
        func string(_ name: String, _ value: String?) {
            guard let value else { return }
            key(name)
            JSONString.append(value, to: &out)
        }
        // Arrays are written even when empty, as the encoder does.
        func strings(_ name: String, _ values: [String]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(value, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
        /// An array of objects, each given as its string members in key order (nil ones left out).
        func objects<Element>(_ name: String, _ elements: [Element], _ members: (Element) -> [(String, String?)]) {
            key(name)
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                out.append(UInt8(ascii: "{"))
                var firstMember = true
                for case (let name, let value?) in members(element) {
                    if !firstMember { out.append(UInt8(ascii: ",")) }
                    firstMember = false
                    JSONString.append(name, to: &out)
                    out.append(UInt8(ascii: ":"))
                    JSONString.append(value, to: &out)
                }
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        // In the order of the keys' names, as `.sortedKeys` writes them.
        string("byline", byline)
        string("canonical_url", canonicalURL)
        string("description", description)
        objects("images", images) { [("caption", $0.caption), ("src", $0.src)] }
        string("kind", kind.rawValue)
        string("lang", lang)
        string("lead_image", leadImage)
        strings("outlinks", outlinks)
        strings("paragraphs", paragraphs)
        string("published_at", publishedAt)
        objects("related", related) { [("title", $0.title), ("url", $0.url)] }
        string("site_name", siteName)
        string("text", text)
        string("title", title)
        string("updated_at", updatedAt)
        string("url", url)
        out.append(UInt8(ascii: "}"))
        return RawJSON(validated: out)
    }
}
