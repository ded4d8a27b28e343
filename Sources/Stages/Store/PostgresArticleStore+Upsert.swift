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
                        try await Self.store(batch, on: connection, at: now, logger: logger)
                    }
                } catch where RunnelError.isTransient(error) && attempt < 5 {
                    attempt += 1
                    try await Task.sleep(for: .milliseconds(Int.random(in: 5...50) * attempt))
                }
            }
        }
    }

    /// Stores a batch inside its transaction in a few statements whatever its size, each over
    /// arrays of the batch's rows (`unnest`): the failures; the articles, ``insertChunk`` a
    /// statement, `ON CONFLICT (canonical_url) DO NOTHING`, in batch order (so ids are given as one
    /// insert per article gave them); the rows of the keys that were already there, locked (`FOR UPDATE`), and the
    /// versions their fingerprints match; then what ``PostgresUpsertPlan`` works out from those:
    /// rewritten rows, new versions and replaced child rows, one statement per table.
    static func store(_ batch: [StoreItem], on connection: PostgresConnection, at now: String, logger: Logger) async throws -> [StoreResult] {
        var articles: [ArticleInput] = []
        var failures: [(record: ErrorRecord, messageID: String)] = []
        for (index, item) in batch.enumerated() {
            switch item {
            case let .failure(record, messageID):
                failures.append((record, messageID))
            case let .parsed(article, _):
                articles.append(ArticleInput(index: index, article: article, enrichment: nil, contentHash: nil))
            case let .enriched(enriched, _):
                let parts = StoredArticle.parts(of: enriched)
                articles.append(
                    ArticleInput(index: index, article: parts.article, enrichment: parts.enrichment, contentHash: parts.contentHash))
            }
        }
        if !failures.isEmpty { try await insertFailures(failures, on: connection, at: now, logger: logger) }
        var stored = [ArticleStored?](repeating: nil, count: batch.count)
        if !articles.isEmpty {
            let (prepared, plan) = try await plan(articles, on: connection, at: now, logger: logger)
            try await write(plan, on: connection, at: now, logger: logger)
            for (article, result) in zip(prepared, plan.results) { stored[article.index] = result }
        }
        return stored.map { $0.map(StoreResult.stored) ?? .recordedFailure }
    }

    /// Articles inserted per statement: the next chunk's keys, fingerprints and vectors are
    /// worked out (on another core) while the server inserts this one.
    static let insertChunk = 100

    /// Inserts the articles whose key is new, locks and reads the rows of the others, and works
    /// out the rest of the batch.
    /// - Returns: the articles, prepared, and the plan.
    static func plan(
        _ inputs: [ArticleInput], on connection: PostgresConnection, at now: String, logger: Logger
    ) async throws -> ([PreparedArticle], PostgresUpsertPlan) {
        var articles: [PreparedArticle] = []
        articles.reserveCapacity(inputs.count)
        var inserted: [String: Int64] = [:]
        var start = 0
        var chunk = inputs[0..<min(insertChunk, inputs.count)].map(PreparedArticle.init)
        while true {
            let end = start + chunk.count
            let following: Task<[PreparedArticle], Never>? =
                end < inputs.count ? Task { [next = inputs[end..<min(end + insertChunk, inputs.count)]] in next.map(PreparedArticle.init) } : nil
            do {
                try await insertArticles(chunk, into: &inserted, on: connection, at: now, logger: logger)
            } catch {
                following?.cancel()
                throw error
            }
            articles += chunk
            guard let following else { break }
            chunk = await following.value
            start = end
        }
        return (articles, try await lockKnown(articles, inserted: inserted, on: connection, logger: logger))
    }

    /// One INSERT of a chunk of the batch's articles, in order, `ON CONFLICT DO NOTHING`: adds
    /// the id of each key it created to `inserted`.
    static func insertArticles(
        _ articles: [PreparedArticle], into inserted: inout [String: Int64], on connection: PostgresConnection, at now: String,
        logger: Logger
    ) async throws {
        var columns = ArticleColumns()
        for prepared in articles { columns.append(prepared, fill: nil) }
        for row in try await connection.query(
            """
            INSERT INTO articles (canonical_url, url, title, byline, published_at, updated_at, description, site_name,
                lang, kind, text, images, language, language_confidence, summary, word_count, reading_time_s, simhash,
                quotes, content_hash, fingerprint, first_seen, last_seen, version, search, lead_image)
            SELECT canonical_url, url, title, byline, published_at, updated_at, description, site_name,
                lang, kind, text, images, language, language_confidence, summary, word_count, reading_time_s, simhash,
                quotes, content_hash, fingerprint, \(now), \(now), 1, search::tsvector, lead_image
            FROM unnest(\(articles.map(\.key))::text[], \(columns.url)::text[], \(columns.title)::text[], \(columns.byline)::text[],
                \(columns.publishedAt)::text[], \(columns.updatedAt)::text[], \(columns.description)::text[], \(columns.siteName)::text[],
                \(columns.lang)::text[], \(columns.kind)::text[], \(columns.text)::text[], \(columns.images)::text[],
                \(columns.language)::text[], \(columns.languageConfidence)::float8[], \(columns.summary)::text[],
                \(columns.wordCount)::int8[], \(columns.readingTimeS)::int8[], \(columns.simhash)::text[], \(columns.quotes)::text[],
                \(columns.contentHash)::text[], \(columns.fingerprint)::text[], \(columns.search)::text[],
                \(columns.leadImage)::text[])
                WITH ORDINALITY AS x(canonical_url, url, title, byline, published_at, updated_at, description, site_name,
                    lang, kind, text, images, language, language_confidence, summary, word_count, reading_time_s, simhash,
                    quotes, content_hash, fingerprint, search, lead_image, n)
            ORDER BY n
            ON CONFLICT (canonical_url) DO NOTHING
            RETURNING canonical_url, id
            """,
            logger: logger
        ).collect() {
            let (key, id) = try row.decode((String, Int64).self)
            inserted[key] = id
        }
    }

    /// Locks and reads the rows of the keys that were there before the batch, and the earlier
    /// versions their articles may match, and works out the batch.
    static func lockKnown(
        _ articles: [PreparedArticle], inserted: [String: Int64], on connection: PostgresConnection, logger: Logger
    ) async throws -> PostgresUpsertPlan {
        var seen = Set(inserted.keys)
        let known = articles.map(\.key).filter { seen.insert($0).inserted }
        var existing: [String: PostgresUpsertPlan.Current] = [:]
        var earlier: [Int64: [String: Int]] = [:]
        guard !known.isEmpty else { return try PostgresUpsertPlan(articles, inserted: inserted, existing: existing, earlier: earlier) }
        for row in try await connection.query(
            """
            SELECT id, canonical_url, version, fingerprint, language IS NULL FROM articles
            WHERE canonical_url = ANY(\(known)::text[]) ORDER BY id FOR UPDATE
            """,
            logger: logger
        ).collect() {
            let (id, key, version, fingerprint, languageIsNull) = try row.decode((Int64, String, Int, String, Bool).self)
            existing[key] = .init(id: id, version: version, fingerprint: fingerprint, languageIsNull: languageIsNull)
        }
        // Earlier versions matter only for a fingerprint that is not the current one.
        var ids: Set<Int64> = []
        var fingerprints: Set<String> = []
        for prepared in articles {
            guard let current = existing[prepared.key], current.fingerprint != prepared.fingerprint else { continue }
            ids.insert(current.id)
            fingerprints.insert(prepared.fingerprint)
        }
        if !ids.isEmpty {
            for row in try await connection.query(
                """
                SELECT article_id, fingerprint, max(version) FROM versions
                WHERE article_id = ANY(\(Array(ids))::int8[]) AND fingerprint = ANY(\(Array(fingerprints))::text[])
                GROUP BY article_id, fingerprint
                """,
                logger: logger
            ).collect() {
                let (id, fingerprint, version) = try row.decode((Int64, String, Int).self)
                earlier[id, default: [:]][fingerprint] = version
            }
        }
        return try PostgresUpsertPlan(articles, inserted: inserted, existing: existing, earlier: earlier)
    }

    /// Writes what the plan worked out: a statement per table that has anything to write.
    static func write(_ plan: PostgresUpsertPlan, on connection: PostgresConnection, at now: String, logger: Logger) async throws {
        if !plan.clearedLinks.isEmpty {
            try await connection.query("DELETE FROM links WHERE article_id = ANY(\(plan.clearedLinks)::int8[])", logger: logger)
        }
        if !plan.clearedEnrichment.isEmpty {
            try await connection.query("DELETE FROM entities WHERE article_id = ANY(\(plan.clearedEnrichment)::int8[])", logger: logger)
            try await connection.query("DELETE FROM keywords WHERE article_id = ANY(\(plan.clearedEnrichment)::int8[])", logger: logger)
        }
        if !plan.rewrites.isEmpty {
            // A version's title and text live in `articles` while it is current: before the row
            // takes a newer version's, they go into the version's own row (empty until now).
            try await connection.query(
                """
                UPDATE versions AS v SET title = a.title, text = a.text
                FROM articles AS a
                WHERE a.id = ANY(\(plan.rewrites.map(\.id))::int8[]) AND v.article_id = a.id AND v.version = a.version
                    AND v.text IS NULL
                """,
                logger: logger)
            var columns = ArticleColumns()
            for rewrite in plan.rewrites { columns.append(rewrite.content, fill: rewrite.fill) }
            try await connection.query(
                """
                UPDATE articles AS a SET url = x.url, title = x.title, byline = x.byline, published_at = x.published_at,
                    updated_at = x.updated_at, description = x.description, site_name = x.site_name, lang = x.lang, kind = x.kind,
                    text = x.text, images = x.images, language = x.language, language_confidence = x.language_confidence,
                    summary = x.summary, word_count = x.word_count, reading_time_s = x.reading_time_s, simhash = x.simhash,
                    quotes = x.quotes, content_hash = x.content_hash, fingerprint = x.fingerprint, last_seen = \(now),
                    version = x.version, search = x.search::tsvector, lead_image = x.lead_image
                FROM unnest(\(plan.rewrites.map(\.id))::int8[], \(plan.rewrites.map { Int64($0.version) })::int8[],
                    \(columns.url)::text[], \(columns.title)::text[], \(columns.byline)::text[],
                    \(columns.publishedAt)::text[], \(columns.updatedAt)::text[], \(columns.description)::text[], \(columns.siteName)::text[],
                    \(columns.lang)::text[], \(columns.kind)::text[], \(columns.text)::text[], \(columns.images)::text[],
                    \(columns.language)::text[], \(columns.languageConfidence)::float8[], \(columns.summary)::text[],
                    \(columns.wordCount)::int8[], \(columns.readingTimeS)::int8[], \(columns.simhash)::text[], \(columns.quotes)::text[],
                    \(columns.contentHash)::text[], \(columns.fingerprint)::text[], \(columns.search)::text[],
                    \(columns.leadImage)::text[])
                    AS x(id, version, url, title, byline, published_at, updated_at, description, site_name,
                        lang, kind, text, images, language, language_confidence, summary, word_count, reading_time_s, simhash,
                        quotes, content_hash, fingerprint, search, lead_image)
                WHERE a.id = x.id
                """,
                logger: logger)
        }
        if !plan.fills.isEmpty {
            let enrichments = plan.fills.map(\.fill.enrichment)
            try await connection.query(
                """
                UPDATE articles AS a SET language = x.language, language_confidence = x.language_confidence, summary = x.summary,
                    word_count = x.word_count, reading_time_s = x.reading_time_s, simhash = x.simhash, quotes = x.quotes,
                    content_hash = x.content_hash, last_seen = \(now)
                FROM unnest(\(plan.fills.map(\.id))::int8[], \(enrichments.map(\.language.code))::text[],
                    \(enrichments.map(\.language.confidence))::float8[], \(enrichments.map(\.summary))::text[],
                    \(enrichments.map { Int64($0.wordCount) })::int8[], \(enrichments.map { Int64($0.readingTimeS) })::int8[],
                    \(enrichments.map(\.simhash))::text[], \(PostgresNullableArray(enrichments.map { SQLiteArticleStore.json($0.quotes) }))::text[],
                    \(plan.fills.map(\.fill.contentHash))::text[])
                    AS x(id, language, language_confidence, summary, word_count, reading_time_s, simhash, quotes, content_hash)
                WHERE a.id = x.id
                """,
                logger: logger)
        }
        if !plan.touched.isEmpty {
            try await connection.query("UPDATE articles SET last_seen = \(now) WHERE id = ANY(\(plan.touched)::int8[])", logger: logger)
        }
        if !plan.versions.isEmpty {
            // The article's last version of the batch is its current one: its title and text are
            // the row's. One the batch itself replaced keeps its own.
            let current = Dictionary(plan.versions.map { ($0.id, $0.version) }, uniquingKeysWith: max)
            var titles = PostgresNullableArray<String>()
            var texts = PostgresNullableArray<String>()
            for version in plan.versions {
                let isCurrent = current[version.id] == version.version
                titles.append(isCurrent ? nil : version.article.article.title)
                texts.append(isCurrent ? nil : version.article.article.text)
            }
            try await connection.query(
                """
                INSERT INTO versions (article_id, version, content_hash, fingerprint, title, text, stored_at)
                SELECT id, version, content_hash, fingerprint, title, text, \(now)
                FROM unnest(\(plan.versions.map(\.id))::int8[], \(plan.versions.map { Int64($0.version) })::int8[],
                    \(plan.versions.map(\.article.contentHash))::text[], \(plan.versions.map(\.article.fingerprint))::text[],
                    \(titles)::text[], \(texts)::text[])
                    AS x(id, version, content_hash, fingerprint, title, text)
                """,
                logger: logger)
        }
        try await insertLinks(plan.links, on: connection, logger: logger)
        try await insertEnrichmentChildren(plan.enrichments, on: connection, logger: logger)
    }

    /// Each article's related links and outlinks, in one statement.
    static func insertLinks(_ links: [(id: Int64, article: ArticleParsed)], on connection: PostgresConnection, logger: Logger) async throws {
        var ids: [Int64] = []
        var kinds: [String] = []
        var positions: [Int64] = []
        var titles = PostgresNullableArray<String>()
        var urls: [String] = []
        for (id, article) in links {
            for (position, link) in article.related.enumerated() {
                ids.append(id)
                kinds.append("related")
                positions.append(Int64(position))
                titles.append(link.title)
                urls.append(link.url)
            }
            for (position, url) in article.outlinks.enumerated() {
                ids.append(id)
                kinds.append("outlink")
                positions.append(Int64(position))
                titles.append(nil)
                urls.append(url)
            }
        }
        guard !ids.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO links (article_id, kind, position, title, url)
            SELECT * FROM unnest(\(ids)::int8[], \(kinds)::text[], \(positions)::int8[], \(titles)::text[], \(urls)::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger)
    }

    /// Each article's entities and keywords: a statement for each table.
    static func insertEnrichmentChildren(
        _ enrichments: [(id: Int64, enrichment: StoredArticle.Enrichment)], on connection: PostgresConnection, logger: Logger
    ) async throws {
        var entityIDs: [Int64] = []
        var entityPositions: [Int64] = []
        var texts: [String] = []
        var kinds: [String] = []
        var counts: [Int64] = []
        var firsts: [Int64] = []
        var keywordIDs: [Int64] = []
        var keywordPositions: [Int64] = []
        var keywords: [String] = []
        for (id, enrichment) in enrichments {
            for (position, entity) in enrichment.entities.enumerated() {
                entityIDs.append(id)
                entityPositions.append(Int64(position))
                texts.append(entity.text)
                kinds.append(entity.kind)
                counts.append(Int64(entity.count))
                firsts.append(Int64(entity.first))
            }
            for (position, keyword) in enrichment.keywords.enumerated() {
                keywordIDs.append(id)
                keywordPositions.append(Int64(position))
                keywords.append(keyword)
            }
        }
        if !entityIDs.isEmpty {
            try await connection.query(
                """
                INSERT INTO entities (article_id, position, text, kind, count, first)
                SELECT * FROM unnest(\(entityIDs)::int8[], \(entityPositions)::int8[], \(texts)::text[], \(kinds)::text[],
                    \(counts)::int8[], \(firsts)::int8[])
                """,
                logger: logger)
        }
        if !keywordIDs.isEmpty {
            try await connection.query(
                """
                INSERT INTO keywords (article_id, position, keyword)
                SELECT * FROM unnest(\(keywordIDs)::int8[], \(keywordPositions)::int8[], \(keywords)::text[])
                ON CONFLICT DO NOTHING
                """,
                logger: logger)
        }
    }

    /// The batch's error records, in order; one already recorded (the same message id) is left as it is.
    static func insertFailures(
        _ failures: [(record: ErrorRecord, messageID: String)], on connection: PostgresConnection, at now: String, logger: Logger
    ) async throws {
        let records = failures.map(\.record)
        try await connection.query(
            """
            INSERT INTO failures (message_id, received_at, code, status, message, stage, attempt, url, original, raw)
            SELECT message_id, \(now), code, status, message, stage, attempt, url, original, raw
            FROM unnest(\(failures.map(\.messageID))::text[], \(records.map { Int64($0.code.rawValue) })::int8[],
                \(records.map(\.status))::text[], \(records.map(\.message))::text[], \(records.map(\.stage))::text[],
                \(records.map { Int64($0.attempt) })::int8[], \(PostgresNullableArray(records.map(\.url)))::text[],
                \(PostgresNullableArray(records.map { $0.original?.description }))::text[], \(PostgresNullableArray(records.map(\.raw)))::text[])
                WITH ORDINALITY AS x(message_id, code, status, message, stage, attempt, url, original, raw, n)
            ORDER BY n
            ON CONFLICT (message_id) DO NOTHING
            """,
            logger: logger)
    }
}

/// The article columns of a batch's rows, each one array parameter.
struct ArticleColumns {
    var url: [String] = []
    var title: [String] = []
    var byline = PostgresNullableArray<String>()
    var publishedAt = PostgresNullableArray<String>()
    var updatedAt = PostgresNullableArray<String>()
    var description = PostgresNullableArray<String>()
    var siteName = PostgresNullableArray<String>()
    var lang = PostgresNullableArray<String>()
    var kind: [String] = []
    var text: [String] = []
    var images = PostgresNullableArray<String>()
    var language = PostgresNullableArray<String>()
    var languageConfidence = PostgresNullableArray<Double>()
    var summary = PostgresNullableArray<String>()
    var wordCount = PostgresNullableArray<Int64>()
    var readingTimeS = PostgresNullableArray<Int64>()
    var simhash = PostgresNullableArray<String>()
    var quotes = PostgresNullableArray<String>()
    var contentHash: [String] = []
    var fingerprint: [String] = []
    var search: [String] = []
    var leadImage = PostgresNullableArray<String>()

    /// Adds the row of `prepared`, with the enrichment of `fill` when one was filled in after it.
    mutating func append(_ prepared: PreparedArticle, fill: PostgresUpsertPlan.Fill?) {
        let article = prepared.article
        let e = fill?.enrichment ?? prepared.enrichment
        url.append(article.url)
        title.append(article.title)
        byline.append(article.byline)
        publishedAt.append(article.publishedAt)
        updatedAt.append(article.updatedAt)
        description.append(article.description)
        siteName.append(article.siteName)
        lang.append(article.lang)
        kind.append(article.kind.rawValue)
        text.append(article.text)
        images.append(article.images.isEmpty ? nil : SQLiteArticleStore.json(article.images))
        language.append(e?.language.code)
        languageConfidence.append(e?.language.confidence)
        summary.append(e?.summary)
        wordCount.append(e.map { Int64($0.wordCount) })
        readingTimeS.append(e.map { Int64($0.readingTimeS) })
        simhash.append(e?.simhash)
        quotes.append(e.flatMap { SQLiteArticleStore.json($0.quotes) })
        contentHash.append(fill?.contentHash ?? prepared.contentHash)
        fingerprint.append(prepared.fingerprint)
        search.append(prepared.vector)
        leadImage.append(article.leadImage)
    }
}
