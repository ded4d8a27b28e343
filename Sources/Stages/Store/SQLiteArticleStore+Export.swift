import Foundation
import GRDB
import RunnelProtocol

extension SQLiteArticleStore {
    /// Rebuilds a ``StoredArticle`` from its `articles` row and its child rows.
    static func storedArticle(_ row: Row, in db: Database) throws -> StoredArticle {
        let id: Int64 = row["id"]
        let text: String = row["text"]
        var article = ArticleParsed(url: row["url"])
        let canonical: String = row["canonical_url"]
        article.canonicalURL = canonical == article.url ? nil : canonical
        article.title = row["title"]
        article.byline = row["byline"]
        article.publishedAt = row["published_at"]
        article.updatedAt = row["updated_at"]
        article.description = row["description"]
        article.siteName = row["site_name"]
        article.lang = row["lang"]
        article.kind = ArticleParsed.Kind(rawValue: row["kind"]) ?? .article
        article.text = text
        article.paragraphs = ArticleParsed.split(text)
        article.images = decode([ArticleParsed.Image].self, row["images"]) ?? []
        article.leadImage = row["lead_image"]
        for link in try Row.fetchAll(
            db, sql: "SELECT kind, title, url FROM links WHERE article_id = ? ORDER BY kind, position", arguments: [id])
        {
            if link["kind"] == "related" {
                article.related.append(ArticleParsed.Link(title: link["title"] ?? "", url: link["url"]))
            } else {
                article.outlinks.append(link["url"])
            }
        }

        var enrichment: StoredArticle.Enrichment?
        if let code: String = row["language"] {
            let entities = try Row.fetchAll(
                db, sql: "SELECT text, kind, count, first FROM entities WHERE article_id = ? ORDER BY rowid",
                arguments: [id]
            ).map { ArticleEnriched.Entity(text: $0["text"], kind: $0["kind"], count: $0["count"], first: $0["first"]) }
            let keywords = try String.fetchAll(
                db, sql: "SELECT keyword FROM keywords WHERE article_id = ? ORDER BY position", arguments: [id])
            enrichment = StoredArticle.Enrichment(
                language: ArticleEnriched.Language(code: code, confidence: row["language_confidence"] ?? 0),
                entities: entities,
                quotes: decode([ArticleEnriched.Quote].self, row["quotes"]) ?? [],
                keywords: keywords,
                summary: row["summary"] ?? "",
                wordCount: row["word_count"] ?? 0,
                readingTimeS: row["reading_time_s"] ?? 0,
                simhash: row["simhash"] ?? "")
        }
        return StoredArticle(
            articleID: id, version: row["version"], firstSeen: row["first_seen"], lastSeen: row["last_seen"],
            article: article, enrichment: enrichment, contentHash: row["content_hash"])
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(T.self, from: Data(text.utf8))
    }
}
