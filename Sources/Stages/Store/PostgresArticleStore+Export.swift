import Foundation
import PostgresNIO
import RunnelProtocol

extension PostgresArticleStore {
    /// One page of articles with their child rows, read in one transaction so that each page is
    /// consistent in itself (pages are separate reads; see ``ArticleStore/export(pageSize:)``).
    /// - Parameter leadImage: whether `articles` has `lead_image` (``hasLeadImage``).
    static func articles(
        after afterID: Int64, limit: Int, leadImage: Bool, on connection: PostgresConnection, logger: Logger
    ) async throws -> [StoredArticle] {
        try await connection.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
            let leadImageColumn = leadImage ? "lead_image" : "NULL::text AS lead_image"
            let rows = try await connection.query(
                """
                SELECT id, canonical_url, url, title, byline, published_at, updated_at, description, site_name, lang, kind,
                    text, images, language, language_confidence, summary, word_count, reading_time_s, simhash, quotes,
                    content_hash, first_seen, last_seen, version, \(unescaped: leadImageColumn)
                FROM articles WHERE id > \(afterID) ORDER BY id LIMIT \(limit)
                """,
                logger: logger
            ).collect()
            guard let first = rows.first, let last = rows.last else { return [] }
            let low = try first.decode(Int64.self)
            let high = try last.decode(Int64.self)

            var related: [Int64: [ArticleParsed.Link]] = [:]
            var outlinks: [Int64: [String]] = [:]
            for row in try await connection.query(
                """
                SELECT article_id, kind, title, url FROM links
                WHERE article_id BETWEEN \(low) AND \(high) ORDER BY article_id, kind, position
                """,
                logger: logger
            ).collect() {
                let (id, kind, title, url) = try row.decode((Int64, String, String?, String).self)
                if kind == "related" {
                    related[id, default: []].append(ArticleParsed.Link(title: title ?? "", url: url))
                } else {
                    outlinks[id, default: []].append(url)
                }
            }
            var entities: [Int64: [ArticleEnriched.Entity]] = [:]
            for row in try await connection.query(
                """
                SELECT article_id, text, kind, count, first FROM entities
                WHERE article_id BETWEEN \(low) AND \(high) ORDER BY article_id, position
                """,
                logger: logger
            ).collect() {
                let (id, text, kind, count, first) = try row.decode((Int64, String, String, Int, Int).self)
                entities[id, default: []].append(ArticleEnriched.Entity(text: text, kind: kind, count: count, first: first))
            }
            var keywords: [Int64: [String]] = [:]
            for row in try await connection.query(
                """
                SELECT article_id, keyword FROM keywords
                WHERE article_id BETWEEN \(low) AND \(high) ORDER BY article_id, position
                """,
                logger: logger
            ).collect() {
                let (id, keyword) = try row.decode((Int64, String).self)
                keywords[id, default: []].append(keyword)
            }

            return try rows.map { row in
                let r = row.makeRandomAccess()
                let id = try r["id"].decode(Int64.self)
                var article = ArticleParsed(url: try r["url"].decode(String.self))
                let canonical = try r["canonical_url"].decode(String.self)
                article.canonicalURL = canonical == article.url ? nil : canonical
                article.title = try r["title"].decode(String.self)
                article.byline = try r["byline"].decode(String?.self)
                article.publishedAt = try r["published_at"].decode(String?.self)
                article.updatedAt = try r["updated_at"].decode(String?.self)
                article.description = try r["description"].decode(String?.self)
                article.siteName = try r["site_name"].decode(String?.self)
                article.lang = try r["lang"].decode(String?.self)
                article.kind = ArticleParsed.Kind(rawValue: try r["kind"].decode(String.self)) ?? .article
                let text = try r["text"].decode(String.self)
                article.text = text
                article.paragraphs = ArticleParsed.split(text)
                article.images = SQLiteArticleStore.decode([ArticleParsed.Image].self, try r["images"].decode(String?.self)) ?? []
                article.leadImage = try r["lead_image"].decode(String?.self)
                article.related = related[id] ?? []
                article.outlinks = outlinks[id] ?? []

                var enrichment: StoredArticle.Enrichment?
                if let code = try r["language"].decode(String?.self) {
                    enrichment = StoredArticle.Enrichment(
                        language: ArticleEnriched.Language(code: code, confidence: try r["language_confidence"].decode(Double?.self) ?? 0),
                        entities: entities[id] ?? [],
                        quotes: SQLiteArticleStore.decode([ArticleEnriched.Quote].self, try r["quotes"].decode(String?.self)) ?? [],
                        keywords: keywords[id] ?? [],
                        summary: try r["summary"].decode(String?.self) ?? "",
                        wordCount: try r["word_count"].decode(Int?.self) ?? 0,
                        readingTimeS: try r["reading_time_s"].decode(Int?.self) ?? 0,
                        simhash: try r["simhash"].decode(String?.self) ?? "")
                }
                return StoredArticle(
                    articleID: id, version: try r["version"].decode(Int.self), firstSeen: try r["first_seen"].decode(String.self),
                    lastSeen: try r["last_seen"].decode(String.self), article: article, enrichment: enrichment,
                    contentHash: try r["content_hash"].decode(String.self))
            }
        }
    }
}
