import RunnelProtocol

extension ArticleEnriched {
    /// The body of an `article.enriched` message: the JSON that `RawJSON(encoding:)` makes of it
    /// (the article's members and the analysis's, in one object, keys sorted), written straight
    /// into bytes; nil for a language confidence that is not a finite number, which JSON cannot
    /// hold (the encoder then reports it).
    ///
    /// Foundation's encoder took a sixth of enrich's CPU: the article's text goes out twice
    /// (`text` and `paragraphs`), escaped through `String` APIs.
    var jsonBody: RawJSON? {
        guard language.confidence.isFinite else { return nil }
        var writer = JSONObjectWriter(reservingCapacity: 2 * article.text.utf8.count + 4096)
        writer.string("byline", article.byline)
        writer.string("canonical_url", article.canonicalURL)
        writer.string("content_hash", contentHash)
        writer.string("description", article.description)
        writer.objects("entities", entities) { writer, entity in
            writer.integer("count", entity.count)
            writer.integer("first", entity.first)
            writer.string("kind", entity.kind)
            writer.string("text", entity.text)
        }
        writer.objects("images", article.images) { writer, image in
            writer.string("caption", image.caption)
            writer.string("src", image.src)
        }
        writer.strings("keywords", keywords)
        writer.string("kind", article.kind.rawValue)
        writer.string("lang", article.lang)
        writer.object("language") { writer in
            writer.string("code", language.code)
            writer.number("confidence", language.confidence)
        }
        writer.string("lead_image", article.leadImage)
        writer.strings("outlinks", article.outlinks)
        writer.strings("paragraphs", article.paragraphs)
        writer.string("published_at", article.publishedAt)
        writer.objects("quotes", quotes) { writer, quote in
            writer.string("speaker", quote.speaker)
            writer.string("text", quote.text)
        }
        writer.integer("reading_time_s", readingTimeS)
        writer.objects("related", article.related) { writer, link in
            writer.string("title", link.title)
            writer.string("url", link.url)
        }
        writer.string("simhash", simhash)
        writer.string("site_name", article.siteName)
        writer.string("summary", summary)
        writer.string("text", article.text)
        writer.string("title", article.title)
        writer.string("updated_at", article.updatedAt)
        writer.string("url", article.url)
        writer.integer("word_count", wordCount)
        return writer.finish()
    }
}
