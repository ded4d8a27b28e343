import Foundation
import PostgresNIO
import RunnelProtocol

extension PostgresArticleStore {
    /// One transaction per batch, committed when this returns. A deadlock or serialization
    /// failure between concurrent writers rolls the batch back and runs it again (a few times,
    /// then `UNAVAILABLE`, which the runner retries).
    public func upsert(_ batch: [StoreItem]) async throws(RunnelError) -> [StoreResult] {
        guard !batch.isEmpty else { return [] }
        guard configuration.mode == .readWrite else {
            throw RunnelError(.failedPrecondition, "the store at \(url) was opened read-only")
        }
        return try await perform("storing a batch of \(batch.count)") { client, logger in
            var attempt = 1
            while true {
                let now = Timestamp.now()
                do {
                    return try await client.withTransaction(logger: logger) { connection in
                        var results: [StoreResult] = []
                        results.reserveCapacity(batch.count)
                        for item in batch { results.append(try await Self.store(item, on: connection, at: now, logger: logger)) }
                        return results
                    }
                } catch where RunnelError.isTransient(error) && attempt < 5 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
                }
            }
        }
    }

    /// Stores one item inside the batch's transaction.
    static func store(_ item: StoreItem, on connection: PostgresConnection, at now: String, logger: Logger) async throws -> StoreResult {
        switch item {
        case let .failure(record, messageID):
            try await connection.query(
                """
                INSERT INTO failures (message_id, received_at, code, status, message, stage, attempt, url, original, raw)
                VALUES (\(messageID), \(now), \(record.code.rawValue), \(record.status), \(record.message), \(record.stage),
                        \(record.attempt), \(record.url), \(record.original?.description), \(record.raw))
                ON CONFLICT (message_id) DO NOTHING
                """,
                logger: logger)
            return .recordedFailure
        case let .parsed(article, _):
            return .stored(try await storeArticle(article, enrichment: nil, contentHash: nil, on: connection, at: now, logger: logger))
        case let .enriched(enriched, _):
            let enrichment = StoredArticle.Enrichment(
                language: enriched.language, entities: enriched.entities, quotes: enriched.quotes,
                keywords: enriched.keywords, summary: enriched.summary, wordCount: enriched.wordCount,
                readingTimeS: enriched.readingTimeS, simhash: enriched.simhash)
            let hash = enriched.contentHash.isEmpty ? nil : enriched.contentHash
            return .stored(
                try await storeArticle(enriched.article, enrichment: enrichment, contentHash: hash, on: connection, at: now, logger: logger))
        }
    }

    /// Inserts a new article, keeps a new version of a known one, or recognises a redelivery, as
    /// the SQLite store does. The insert that loses a race with another writer does nothing; the
    /// row is then locked, so the comparison and update see the winner's committed row.
    static func storeArticle(
        _ article: ArticleParsed, enrichment e: StoredArticle.Enrichment?, contentHash: String?,
        on connection: PostgresConnection, at now: String, logger: Logger
    ) async throws -> ArticleStored {
        let key = SQLiteArticleStore.key(of: article)
        let fingerprint = ContentFingerprint.of(title: article.title, text: article.text)
        let hash = contentHash ?? fingerprint
        let vector = PostgresTextSearch.vector(title: article.title, text: article.text)
        let images = article.images.isEmpty ? nil : SQLiteArticleStore.json(article.images)
        let quotes = e.flatMap { SQLiteArticleStore.json($0.quotes) }

        // A new article in one round trip: the row, its first version and its children, each
        // insert fed by the article insert's RETURNING, so nothing is written when it conflicts.
        let entities = e?.entities ?? []
        let inserted = try await connection.query(
            """
            WITH article AS (
                INSERT INTO articles (canonical_url, url, title, byline, published_at, updated_at, description, site_name,
                    lang, kind, text, images, language, language_confidence, summary, word_count, reading_time_s, simhash,
                    quotes, content_hash, fingerprint, first_seen, last_seen, version, search)
                VALUES (\(key), \(article.url), \(article.title), \(article.byline), \(article.publishedAt), \(article.updatedAt),
                    \(article.description), \(article.siteName), \(article.lang), \(article.kind.rawValue), \(article.text),
                    \(images), \(e?.language.code), \(e?.language.confidence), \(e?.summary), \(e?.wordCount),
                    \(e?.readingTimeS), \(e?.simhash), \(quotes), \(hash), \(fingerprint), \(now), \(now), 1, \(vector)::tsvector)
                ON CONFLICT (canonical_url) DO NOTHING
                RETURNING id
            ), version AS (
                INSERT INTO versions (article_id, version, content_hash, fingerprint, title, text, stored_at)
                SELECT id, 1, \(hash), \(fingerprint), \(article.title), \(article.text), \(now) FROM article
            ), related AS (
                INSERT INTO links (article_id, kind, position, title, url)
                SELECT id, 'related', n - 1, t, u
                FROM article, unnest(\(article.related.map(\.title))::text[], \(article.related.map(\.url))::text[]) WITH ORDINALITY AS x(t, u, n)
                ON CONFLICT DO NOTHING
            ), outlinks AS (
                INSERT INTO links (article_id, kind, position, title, url)
                SELECT id, 'outlink', n - 1, NULL, u FROM article, unnest(\(article.outlinks)::text[]) WITH ORDINALITY AS x(u, n)
                ON CONFLICT DO NOTHING
            ), entities AS (
                INSERT INTO entities (article_id, position, text, kind, count, first)
                SELECT id, n - 1, t, k, c, f
                FROM article, unnest(\(entities.map(\.text))::text[], \(entities.map(\.kind))::text[],
                    \(entities.map { Int64($0.count) })::int8[], \(entities.map { Int64($0.first) })::int8[]) WITH ORDINALITY AS x(t, k, c, f, n)
            ), keywords AS (
                INSERT INTO keywords (article_id, position, keyword)
                SELECT id, n - 1, k FROM article, unnest(\(e?.keywords ?? [])::text[]) WITH ORDINALITY AS x(k, n)
                ON CONFLICT DO NOTHING
            )
            SELECT id FROM article
            """,
            logger: logger
        ).collect()
        if let row = inserted.first {
            let id = try row.decode(Int64.self)
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .inserted, version: 1)
        }

        guard
            let existing = try await connection.query(
                "SELECT id, version, fingerprint, language FROM articles WHERE canonical_url = \(key) FOR UPDATE", logger: logger
            ).collect().first
        else {
            throw RunnelError(.unavailable, "the article \(key) was deleted by another connection while it was being stored")
        }
        let (id, version, current, language) = try existing.decode((Int64, Int, String, String?).self)
        if current == fingerprint {
            try await connection.query("UPDATE articles SET last_seen = \(now) WHERE id = \(id)", logger: logger)
            if let e, language == nil {
                try await fillEnrichment(id: id, e, contentHash: hash, on: connection, logger: logger)
            }
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: version)
        }
        let earlier = try await connection.query(
            "SELECT max(version) FROM versions WHERE article_id = \(id) AND fingerprint = \(fingerprint)", logger: logger
        ).collect().first?.decode(Int?.self) ?? nil
        if let earlier {
            try await connection.query("UPDATE articles SET last_seen = \(now) WHERE id = \(id)", logger: logger)
            return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .unchanged, version: earlier)
        }

        // A new version: rewrite the row and its vector, keep the version, replace the children.
        try await connection.query(
            """
            UPDATE articles SET url = \(article.url), title = \(article.title), byline = \(article.byline),
                published_at = \(article.publishedAt), updated_at = \(article.updatedAt), description = \(article.description),
                site_name = \(article.siteName), lang = \(article.lang), kind = \(article.kind.rawValue), text = \(article.text),
                images = \(images), language = \(e?.language.code), language_confidence = \(e?.language.confidence),
                summary = \(e?.summary), word_count = \(e?.wordCount), reading_time_s = \(e?.readingTimeS),
                simhash = \(e?.simhash), quotes = \(quotes), content_hash = \(hash), fingerprint = \(fingerprint),
                last_seen = \(now), version = \(version + 1), search = \(vector)::tsvector
            WHERE id = \(id)
            """,
            logger: logger)
        try await insertVersion(id: id, version: version + 1, article, contentHash: hash, fingerprint: fingerprint, on: connection, at: now, logger: logger)
        for table in ["entities", "keywords", "links"] {
            try await connection.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE article_id = $1", binds: binds(id)), logger: logger)
        }
        try await insertChildren(id: id, article, enrichment: e, on: connection, logger: logger)
        return ArticleStored(url: article.url, canonicalURL: key, articleID: id, action: .updated, version: version + 1)
    }

    static func binds(_ id: Int64) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(id)
        return binds
    }

    static func fillEnrichment(
        id: Int64, _ e: StoredArticle.Enrichment, contentHash: String, on connection: PostgresConnection, logger: Logger
    ) async throws {
        try await connection.query(
            """
            UPDATE articles SET language = \(e.language.code), language_confidence = \(e.language.confidence),
                summary = \(e.summary), word_count = \(e.wordCount), reading_time_s = \(e.readingTimeS),
                simhash = \(e.simhash), quotes = \(SQLiteArticleStore.json(e.quotes)), content_hash = \(contentHash)
            WHERE id = \(id)
            """,
            logger: logger)
        try await connection.query("DELETE FROM entities WHERE article_id = \(id)", logger: logger)
        try await connection.query("DELETE FROM keywords WHERE article_id = \(id)", logger: logger)
        try await insertEnrichmentChildren(id: id, e, on: connection, logger: logger)
    }

    static func insertVersion(
        id: Int64, version: Int, _ article: ArticleParsed, contentHash: String, fingerprint: String,
        on connection: PostgresConnection, at now: String, logger: Logger
    ) async throws {
        try await connection.query(
            """
            INSERT INTO versions (article_id, version, content_hash, fingerprint, title, text, stored_at)
            VALUES (\(id), \(version), \(contentHash), \(fingerprint), \(article.title), \(article.text), \(now))
            """,
            logger: logger)
    }

    /// Links and enrichment rows, each table in one statement over arrays (`unnest`).
    static func insertChildren(
        id: Int64, _ article: ArticleParsed, enrichment: StoredArticle.Enrichment?, on connection: PostgresConnection,
        logger: Logger
    ) async throws {
        if let enrichment { try await insertEnrichmentChildren(id: id, enrichment, on: connection, logger: logger) }
        if !article.related.isEmpty {
            try await connection.query(
                """
                INSERT INTO links (article_id, kind, position, title, url)
                SELECT \(id), 'related', n - 1, t, u FROM unnest(\(article.related.map(\.title))::text[], \(article.related.map(\.url))::text[])
                    WITH ORDINALITY AS x(t, u, n)
                ON CONFLICT DO NOTHING
                """,
                logger: logger)
        }
        if !article.outlinks.isEmpty {
            try await connection.query(
                """
                INSERT INTO links (article_id, kind, position, title, url)
                SELECT \(id), 'outlink', n - 1, NULL, u FROM unnest(\(article.outlinks)::text[]) WITH ORDINALITY AS x(u, n)
                ON CONFLICT DO NOTHING
                """,
                logger: logger)
        }
    }

    static func insertEnrichmentChildren(
        id: Int64, _ e: StoredArticle.Enrichment, on connection: PostgresConnection, logger: Logger
    ) async throws {
        if !e.entities.isEmpty {
            try await connection.query(
                """
                INSERT INTO entities (article_id, position, text, kind, count, first)
                SELECT \(id), n - 1, t, k, c, f
                FROM unnest(\(e.entities.map(\.text))::text[], \(e.entities.map(\.kind))::text[],
                            \(e.entities.map { Int64($0.count) })::int8[], \(e.entities.map { Int64($0.first) })::int8[])
                    WITH ORDINALITY AS x(t, k, c, f, n)
                """,
                logger: logger)
        }
        if !e.keywords.isEmpty {
            try await connection.query(
                """
                INSERT INTO keywords (article_id, position, keyword)
                SELECT \(id), n - 1, k FROM unnest(\(e.keywords)::text[]) WITH ORDINALITY AS x(k, n)
                ON CONFLICT DO NOTHING
                """,
                logger: logger)
        }
    }
}
