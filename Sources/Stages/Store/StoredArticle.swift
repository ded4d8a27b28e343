import RunnelProtocol

/// An article as the store keeps it: its parsed fields, its enrichment when it had one, and the
/// store's bookkeeping. It encodes as an `article.enriched` body (an `article.parsed` body plus
/// `content_hash` when it was never enriched) with a `stored` object added:
///
/// ```json
/// {"url":"…","title":"…","text":"…", …, "language":{"code":"vi","confidence":0.99}, …,
///  "content_hash":"…","stored":{"article_id":7,"version":2,"first_seen":"…","last_seen":"…"}}
/// ```
public struct StoredArticle: Sendable, Hashable, Encodable {
    /// The enrichment fields of `article.enriched`.
    public struct Enrichment: Sendable, Hashable {
        public var language: ArticleEnriched.Language
        public var entities: [ArticleEnriched.Entity]
        public var quotes: [ArticleEnriched.Quote]
        public var keywords: [String]
        public var summary: String
        public var wordCount: Int
        public var readingTimeS: Int
        public var simhash: String
    }

    public var articleID: Int64
    public var version: Int
    public var firstSeen: String
    public var lastSeen: String
    public var article: ArticleParsed
    public var enrichment: Enrichment?
    public var contentHash: String

    /// The message type this article's body is a valid body of.
    public var messageType: String {
        enrichment == nil ? MessageType.articleParsed : MessageType.articleEnriched
    }

    /// The article as an `article.enriched` value, when it was enriched.
    public var enriched: ArticleEnriched? {
        guard let e = enrichment else { return nil }
        return ArticleEnriched(
            article: article, language: e.language, entities: e.entities, quotes: e.quotes, keywords: e.keywords,
            summary: e.summary, wordCount: e.wordCount, readingTimeS: e.readingTimeS, simhash: e.simhash,
            contentHash: contentHash)
    }

    enum CodingKeys: String, CodingKey {
        case stored
        case contentHash = "content_hash"
    }

    struct Bookkeeping: Encodable {
        var articleID: Int64
        var version: Int
        var firstSeen: String
        var lastSeen: String
        enum CodingKeys: String, CodingKey {
            case version
            case articleID = "article_id"
            case firstSeen = "first_seen"
            case lastSeen = "last_seen"
        }
    }

    public func encode(to encoder: any Encoder) throws {
        if let enriched {
            try enriched.encode(to: encoder)
        } else {
            try article.encode(to: encoder)
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(contentHash, forKey: .contentHash)
        }
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(
            Bookkeeping(articleID: articleID, version: version, firstSeen: firstSeen, lastSeen: lastSeen),
            forKey: .stored)
    }
}
