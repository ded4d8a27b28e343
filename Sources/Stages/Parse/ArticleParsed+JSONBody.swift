import RunnelProtocol

extension ArticleParsed {
    /// The body of an `article.parsed` message: the JSON that `RawJSON(encoding:)` makes of it,
    /// written straight into bytes.
    ///
    /// Parse emits one per page, with the text twice (`text` and `paragraphs`), which Foundation's
    /// encoder escaped through `String` APIs at a few per cent of a page's parse.
    var jsonBody: RawJSON {
        var writer = JSONObjectWriter(reservingCapacity: 2 * text.utf8.count + 2048)
        writer.string("byline", byline)
        writer.string("canonical_url", canonicalURL)
        writer.string("description", description)
        writer.objects("images", images) { writer, image in
            writer.string("caption", image.caption)
            writer.string("src", image.src)
        }
        writer.string("kind", kind.rawValue)
        writer.string("lang", lang)
        writer.string("lead_image", leadImage)
        writer.strings("outlinks", outlinks)
        writer.strings("paragraphs", paragraphs)
        writer.string("published_at", publishedAt)
        writer.objects("related", related) { writer, link in
            writer.string("title", link.title)
            writer.string("url", link.url)
        }
        writer.string("site_name", siteName)
        writer.string("text", text)
        writer.string("title", title)
        writer.string("updated_at", updatedAt)
        writer.string("url", url)
        return writer.finish()
    }
}
