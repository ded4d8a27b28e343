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
            let parts = StoredArticle.parts(of: enriched)
            return .stored(
                try storeArticle(parts.article, enrichment: parts.enrichment, contentHash: parts.contentHash, in: db, at: now))
        }
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
        let key = ArticleKey.of(article)
        let fingerprint = ContentFingerprint.of(title: article.title, text: article.text)
        let hash = contentHash ?? fingerprint
        // Every statement here is prepared once per connection and reused for each row.
        let lookup = try db.cachedStatement(
            sql: "SELECT id, version, fingerprint, language IS NULL FROM articles WHERE canonical_url = ?")
        let existing = try Row.fetchOne(lookup, arguments: [key])

        guard let existing else {
            var values = articleValues(article, enrichment: enrichment, contentHash: hash, fingerprint: fingerprint)
            values += [key, now, now, 1]
            try db.cachedStatement(sql: insertArticleSQL).execute(arguments: StatementArguments(values))
            let id = db.lastInsertedRowID
            try insertVersion(id: id, version: 1, contentHash: hash, fingerprint: fingerprint, in: db, at: now)
            try insertChildren(id: id, article, enrichment: enrichment, in: db)
            try indexText(id: id, title: article.title, text: article.text, in: db)
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .inserted, version: 1)
        }

        let id: Int64 = existing[0]
        let version: Int = existing[1]
        if existing[2] == fingerprint {
            try touch(id: id, in: db, at: now)
            if let enrichment, existing[3] as Bool {
                try fillEnrichment(id: id, enrichment, contentHash: hash, in: db)
            }
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: version)
        }
        if let earlier = try Int.fetchOne(
            db.cachedStatement(sql: "SELECT max(version) FROM versions WHERE article_id = ? AND fingerprint = ?"),
            arguments: [id, fingerprint])
        {
            try touch(id: id, in: db, at: now)
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: earlier)
        }

        // A new version: unindex the old text, keep it in its version's row (until now the
        // article's alone), rewrite the article, add the new version, reindex.
        guard let old = try Row.fetchOne(db.cachedStatement(sql: "SELECT title, text FROM articles WHERE id = ?"), arguments: [id])
        else { throw RunnelError(.internal, "article \(id) vanished inside its transaction") }
        let oldTitle: String = old[0]
        let oldText: String = old[1]
        try unindexText(id: id, title: oldTitle, text: oldText, in: db)
        try db.cachedStatement(sql: "UPDATE versions SET title = ?, text = ? WHERE article_id = ? AND version = ?")
            .execute(arguments: [oldTitle, oldText, id, version])
        var values = articleValues(article, enrichment: enrichment, contentHash: hash, fingerprint: fingerprint)
        values += [now, version + 1, id]
        try db.cachedStatement(sql: updateArticleSQL).execute(arguments: StatementArguments(values))
        try insertVersion(id: id, version: version + 1, contentHash: hash, fingerprint: fingerprint, in: db, at: now)
        for table in ["entities", "keywords", "links"] {
            try db.cachedStatement(sql: "DELETE FROM \(table) WHERE article_id = ?").execute(arguments: [id])
        }
        try insertChildren(id: id, article, enrichment: enrichment, in: db)
        try indexText(id: id, title: article.title, text: article.text, in: db)
        return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .updated, version: version + 1)
    }

    /// A redelivery: only `last_seen` moves.
    static func touch(id: Int64, in db: Database, at now: String) throws {
        try db.cachedStatement(sql: "UPDATE articles SET last_seen = ? WHERE id = ?").execute(arguments: [now, id])
    }

    /// The `articles` columns an article and its enrichment fill (all but key, dates and
    /// version), in the order of ``articleValues(_:enrichment:contentHash:fingerprint:)``.
    static let articleColumns = [
        "url", "title", "byline", "published_at", "updated_at", "description", "site_name", "lang", "kind", "text",
        "images", "language", "language_confidence", "summary", "word_count", "reading_time_s", "simhash", "quotes",
        "content_hash", "fingerprint", "lead_image",
    ]

    /// Inserts a new article: ``articleColumns``, then key, first and last seen, version.
    static let insertArticleSQL: String = {
        let columns = articleColumns + ["canonical_url", "first_seen", "last_seen", "version"]
        return "INSERT INTO articles (\(columns.joined(separator: ", "))) VALUES (\(columns.map { _ in "?" }.joined(separator: ", ")))"
    }()

    /// Rewrites a known article: ``articleColumns``, then last seen and version, by id.
    static let updateArticleSQL: String = {
        let assignments = (articleColumns + ["last_seen", "version"]).map { "\($0) = ?" }
        return "UPDATE articles SET \(assignments.joined(separator: ", ")) WHERE id = ?"
    }()

    /// The values of ``articleColumns`` for an article and its enrichment.
    static func articleValues(
        _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, contentHash: String, fingerprint: String
    ) -> [(any DatabaseValueConvertible)?] {
        [
            article.url,
            article.title,
            article.byline,
            article.publishedAt,
            article.updatedAt,
            article.description,
            article.siteName,
            article.lang,
            article.kind.rawValue,
            article.text,
            article.images.isEmpty ? nil : json(article.images),
            enrichment?.language.code,
            enrichment?.language.confidence,
            enrichment?.summary,
            enrichment?.wordCount,
            enrichment?.readingTimeS,
            enrichment?.simhash,
            enrichment.map { json($0.quotes) },
            contentHash,
            fingerprint,
            article.leadImage,
        ]
    }

    static func fillEnrichment(id: Int64, _ enrichment: StoredArticle.Enrichment, contentHash: String, in db: Database) throws {
        try db.cachedStatement(
            sql: """
                UPDATE articles SET language = ?, language_confidence = ?, summary = ?, word_count = ?,
                    reading_time_s = ?, simhash = ?, quotes = ?, content_hash = ?
                WHERE id = ?
                """
        ).execute(
            arguments: [
                enrichment.language.code, enrichment.language.confidence, enrichment.summary, enrichment.wordCount,
                enrichment.readingTimeS, enrichment.simhash, json(enrichment.quotes), contentHash, id,
            ])
        try db.cachedStatement(sql: "DELETE FROM entities WHERE article_id = ?").execute(arguments: [id])
        try db.cachedStatement(sql: "DELETE FROM keywords WHERE article_id = ?").execute(arguments: [id])
        try insertEnrichmentChildren(id: id, enrichment, in: db)
    }

    /// Adds the row of the article's current version: its title and text stay the article's
    /// alone until a newer version replaces it.
    static func insertVersion(
        id: Int64, version: Int, contentHash: String, fingerprint: String, in db: Database, at now: String
    ) throws {
        try db.cachedStatement(
            sql: "INSERT INTO versions (article_id, version, content_hash, fingerprint, stored_at) VALUES (?, ?, ?, ?, ?)"
        ).execute(arguments: [id, version, contentHash, fingerprint, now])
    }

    /// The article's links, and its entities and keywords when it is enriched: a real page's
    /// article has a hundred or more, each bound straight through SQLite (``SQLiteRowInsert``).
    static func insertChildren(id: Int64, _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, in db: Database) throws {
        if let enrichment { try insertEnrichmentChildren(id: id, enrichment, in: db) }
        let link = try SQLiteRowInsert(
            "INSERT OR IGNORE INTO links (article_id, kind, position, title, url) VALUES (?, ?, ?, ?, ?)", in: db)
        for (position, related) in article.related.enumerated() {
            try link.run { row in
                row.bind(id)
                row.bind("related")
                row.bind(position)
                row.bind(related.title)
                row.bind(related.url)
            }
        }
        for (position, url) in article.outlinks.enumerated() {
            try link.run { row in
                row.bind(id)
                row.bind("outlink")
                row.bind(position)
                row.bind(nil as String?)
                row.bind(url)
            }
        }
    }

    static func insertEnrichmentChildren(id: Int64, _ enrichment: StoredArticle.Enrichment, in db: Database) throws {
        let entity = try SQLiteRowInsert("INSERT INTO entities (article_id, text, kind, count, first) VALUES (?, ?, ?, ?, ?)", in: db)
        for e in enrichment.entities {
            try entity.run { row in
                row.bind(id)
                row.bind(e.text)
                row.bind(e.kind)
                row.bind(e.count)
                row.bind(e.first)
            }
        }
        let keyword = try SQLiteRowInsert("INSERT OR IGNORE INTO keywords (article_id, position, keyword) VALUES (?, ?, ?)", in: db)
        for (position, k) in enrichment.keywords.enumerated() {
            try keyword.run { row in
                row.bind(id)
                row.bind(position)
                row.bind(k)
            }
        }
    }

    /// Adds the folded title and text to the FTS5 index (as UTF-8 blobs, which the contentless
    /// table tokenizes as it does text: ``TextFolding/foldedBytes(_:)``).
    static func indexText(id: Int64, title: String, text: String, in db: Database) throws {
        try db.cachedStatement(sql: "INSERT INTO articles_fts (rowid, title, text) VALUES (?, ?, ?)").execute(
            arguments: [id, TextFolding.foldedBytes(title), TextFolding.foldedBytes(text)])
    }

    /// Removes a row's folded title and text from the contentless FTS5 index: FTS5's `delete`
    /// command needs exactly the values that were indexed, which folding the stored text gives.
    static func unindexText(id: Int64, title: String, text: String, in db: Database) throws {
        try db.cachedStatement(
            sql: "INSERT INTO articles_fts (articles_fts, rowid, title, text) VALUES ('delete', ?, ?, ?)"
        ).execute(arguments: [id, TextFolding.foldedBytes(title), TextFolding.foldedBytes(text)])
    }

    static func recordFailure(_ record: ErrorRecord, messageID: String, in db: Database, at now: String) throws {
        try db.cachedStatement(
            sql: """
                INSERT INTO failures (message_id, received_at, code, status, message, stage, attempt, url, original, raw)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (message_id) DO NOTHING
                """
        ).execute(
            arguments: [
                messageID, now, record.code.rawValue, record.status, record.message, record.stage, record.attempt,
                record.url, record.original?.description, record.raw,
            ])
    }

    static func json<T: Encodable>(_ value: T) -> String? {
        (try? jsonEncoder.encode(value)).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Encodes the JSON columns (images, quotes); made once, as making one costs more than
    /// encoding a short array.
    static let jsonEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }()
}
