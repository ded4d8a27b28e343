import Foundation
import GRDB
import RunnelProtocol

extension SQLiteArticleStore {
    /// Stores one item inside the batch's transaction.
    static func store(_ item: StoreItem, in db: Database, at now: String) throws -> StoreResult {
        switch item {
        case let .failure(record, messageID):
            try recordFailure(record, messageID: messageID, in: db, at: now)
            return .recordedFailure
        case let .parsed(article, _):
            return .stored(try storeArticle(article, enrichment: nil, contentHash: nil, in: db, at: now))
        case let .enriched(enriched, _):
            let enrichment = StoredArticle.Enrichment(
                language: enriched.language, entities: enriched.entities, quotes: enriched.quotes,
                keywords: enriched.keywords, summary: enriched.summary, wordCount: enriched.wordCount,
                readingTimeS: enriched.readingTimeS, simhash: enriched.simhash)
            let hash = enriched.contentHash.isEmpty ? nil : enriched.contentHash
            return .stored(try storeArticle(enriched.article, enrichment: enrichment, contentHash: hash, in: db, at: now))
        }
    }

    /// The key an article is stored under: its canonical URL, or the fetched URL without one,
    /// normalised by ``WebURL`` without its fragment, so `HTTPS://Site.vn:443/./a#top` and
    /// `https://site.vn/a` are one article. A string WebURL cannot parse is kept as written.
    static func key(of article: ArticleParsed) -> String {
        var key = article.url
        if let canonical = article.canonicalURL?.trimmingCharacters(in: .whitespacesAndNewlines), !canonical.isEmpty {
            key = canonical
        }
        return (try? WebURL(key).removingFragment.href) ?? key
    }

    /// Inserts a new article, keeps a new version of a known one, or recognises a redelivery.
    ///
    /// A delivery whose fingerprint equals the current version's, or any earlier version's (an
    /// old message redelivered after a newer one), is `unchanged`: only `last_seen` moves, and an
    /// article stored before it was enriched gets its enrichment filled in.
    static func storeArticle(
        _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, contentHash: String?,
        in db: Database, at now: String
    ) throws -> ArticleStored {
        let key = key(of: article)
        let fingerprint = ContentFingerprint.of(title: article.title, text: article.text)
        let hash = contentHash ?? fingerprint
        let existing = try Row.fetchOne(
            db, sql: "SELECT id, version, fingerprint, title, text, language FROM articles WHERE canonical_url = ?",
            arguments: [key])

        guard let existing else {
            var values = articleValues(article, enrichment: enrichment, contentHash: hash, fingerprint: fingerprint)
            values["canonical_url"] = key
            values["first_seen"] = now
            values["last_seen"] = now
            values["version"] = 1
            let columns = values.keys.sorted()
            try db.execute(
                sql: "INSERT INTO articles (\(columns.joined(separator: ", "))) VALUES (\(columns.map { ":" + $0 }.joined(separator: ", ")))",
                arguments: StatementArguments(values))
            let id = db.lastInsertedRowID
            try insertVersion(id: id, version: 1, article, contentHash: hash, fingerprint: fingerprint, in: db, at: now)
            try insertChildren(id: id, article, enrichment: enrichment, in: db)
            try indexText(id: id, title: article.title, text: article.text, in: db)
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .inserted, version: 1)
        }

        let id: Int64 = existing["id"]
        let version: Int = existing["version"]
        if existing["fingerprint"] == fingerprint {
            try db.execute(sql: "UPDATE articles SET last_seen = ? WHERE id = ?", arguments: [now, id])
            if let enrichment, (existing["language"] as String?) == nil {
                try fillEnrichment(id: id, enrichment, contentHash: hash, in: db)
            }
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: version)
        }
        if let earlier = try Int.fetchOne(
            db, sql: "SELECT max(version) FROM versions WHERE article_id = ? AND fingerprint = ?",
            arguments: [id, fingerprint])
        {
            try db.execute(sql: "UPDATE articles SET last_seen = ? WHERE id = ?", arguments: [now, id])
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: earlier)
        }

        // A new version: unindex the old text, rewrite the row, keep the version, reindex.
        try unindexText(id: id, title: existing["title"], text: existing["text"], in: db)
        var values = articleValues(article, enrichment: enrichment, contentHash: hash, fingerprint: fingerprint)
        values["last_seen"] = now
        values["version"] = version + 1
        values["id"] = id
        let assignments = values.keys.filter { $0 != "id" }.sorted().map { "\($0) = :\($0)" }
        try db.execute(
            sql: "UPDATE articles SET \(assignments.joined(separator: ", ")) WHERE id = :id",
            arguments: StatementArguments(values))
        try insertVersion(id: id, version: version + 1, article, contentHash: hash, fingerprint: fingerprint, in: db, at: now)
        for table in ["entities", "keywords", "links"] {
            try db.execute(sql: "DELETE FROM \(table) WHERE article_id = ?", arguments: [id])
        }
        try insertChildren(id: id, article, enrichment: enrichment, in: db)
        try indexText(id: id, title: article.title, text: article.text, in: db)
        return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .updated, version: version + 1)
    }

    /// The `articles` columns an article and its enrichment fill (all but key, dates and version).
    static func articleValues(
        _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, contentHash: String, fingerprint: String
    ) -> [String: (any DatabaseValueConvertible)?] {
        [
            "url": article.url,
            "title": article.title,
            "byline": article.byline,
            "published_at": article.publishedAt,
            "updated_at": article.updatedAt,
            "description": article.description,
            "site_name": article.siteName,
            "lang": article.lang,
            "kind": article.kind.rawValue,
            "text": article.text,
            "images": article.images.isEmpty ? nil : json(article.images),
            "language": enrichment?.language.code,
            "language_confidence": enrichment?.language.confidence,
            "summary": enrichment?.summary,
            "word_count": enrichment?.wordCount,
            "reading_time_s": enrichment?.readingTimeS,
            "simhash": enrichment?.simhash,
            "quotes": enrichment.map { json($0.quotes) },
            "content_hash": contentHash,
            "fingerprint": fingerprint,
        ]
    }

    static func fillEnrichment(id: Int64, _ enrichment: StoredArticle.Enrichment, contentHash: String, in db: Database) throws {
        try db.execute(
            sql: """
                UPDATE articles SET language = ?, language_confidence = ?, summary = ?, word_count = ?,
                    reading_time_s = ?, simhash = ?, quotes = ?, content_hash = ?
                WHERE id = ?
                """,
            arguments: [
                enrichment.language.code, enrichment.language.confidence, enrichment.summary, enrichment.wordCount,
                enrichment.readingTimeS, enrichment.simhash, json(enrichment.quotes), contentHash, id,
            ])
        try db.execute(sql: "DELETE FROM entities WHERE article_id = ?", arguments: [id])
        try db.execute(sql: "DELETE FROM keywords WHERE article_id = ?", arguments: [id])
        try insertEnrichmentChildren(id: id, enrichment, in: db)
    }

    static func insertVersion(
        id: Int64, version: Int, _ article: ArticleParsed, contentHash: String, fingerprint: String,
        in db: Database, at now: String
    ) throws {
        try db.execute(
            sql: """
                INSERT INTO versions (article_id, version, content_hash, fingerprint, title, text, stored_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [id, version, contentHash, fingerprint, article.title, article.text, now])
    }

    static func insertChildren(id: Int64, _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, in db: Database) throws {
        if let enrichment { try insertEnrichmentChildren(id: id, enrichment, in: db) }
        let link = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO links (article_id, kind, position, title, url) VALUES (?, ?, ?, ?, ?)")
        for (position, related) in article.related.enumerated() {
            try link.execute(arguments: [id, "related", position, related.title, related.url])
        }
        for (position, url) in article.outlinks.enumerated() {
            try link.execute(arguments: [id, "outlink", position, nil, url])
        }
    }

    static func insertEnrichmentChildren(id: Int64, _ enrichment: StoredArticle.Enrichment, in db: Database) throws {
        let entity = try db.cachedStatement(
            sql: "INSERT INTO entities (article_id, text, kind, count, first) VALUES (?, ?, ?, ?, ?)")
        for e in enrichment.entities {
            try entity.execute(arguments: [id, e.text, e.kind, e.count, e.first])
        }
        let keyword = try db.cachedStatement(
            sql: "INSERT OR IGNORE INTO keywords (article_id, position, keyword) VALUES (?, ?, ?)")
        for (position, k) in enrichment.keywords.enumerated() {
            try keyword.execute(arguments: [id, position, k])
        }
    }

    /// Adds the folded title and text to the FTS5 index.
    static func indexText(id: Int64, title: String, text: String, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)",
            arguments: [id, TextFolding.fold(title), TextFolding.fold(text)])
    }

    /// Removes a row's folded title and text from the contentless FTS5 index: FTS5's `delete`
    /// command needs exactly the values that were indexed, which folding the stored text gives.
    static func unindexText(id: Int64, title: String, text: String, in db: Database) throws {
        try db.execute(
            sql: "INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', ?, ?, ?)",
            arguments: [id, TextFolding.fold(title), TextFolding.fold(text)])
    }

    static func recordFailure(_ record: ErrorRecord, messageID: String, in db: Database, at now: String) throws {
        try db.execute(
            sql: """
                INSERT INTO failures (message_id, received_at, code, status, message, stage, attempt, url, original, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (message_id) DO NOTHING
                """,
            arguments: [
                messageID, now, record.code.rawValue, record.status, record.message, record.stage, record.attempt,
                record.url, record.original?.description, record.raw,
            ])
    }

    static func json<T: Encodable>(_ value: T) -> String? {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }
}
