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
        /// The detected language.
        public var language: ArticleEnriched.Language
        /// People, organizations and places named, from the `entities` table.
        public var entities: [ArticleEnriched.Entity]
        /// Quotations, kept as JSON in `articles.quotes`.
        public var quotes: [ArticleEnriched.Quote]
        /// Keywords in order, from the `keywords` table.
        public var keywords: [String]
        /// A short summary.
        public var summary: String
        /// Words in the text.
        public var wordCount: Int
        /// Estimated reading time in seconds.
        public var readingTimeS: Int
        /// 64-bit SimHash, 16 hex digits.
        public var simhash: String
    }

    /// An `article.enriched` message's parts as both stores take them: the article, its
    /// enrichment, and enrich's content hash (nil when it sent none).
    static func parts(of enriched: ArticleEnriched) -> (article: ArticleParsed, enrichment: Enrichment, contentHash: String?) {
        let enrichment = Enrichment(
            language: enriched.language, entities: enriched.entities, quotes: enriched.quotes,
            keywords: enriched.keywords, summary: enriched.summary, wordCount: enriched.wordCount,
            readingTimeS: enriched.readingTimeS, simhash: enriched.simhash)
        return (enriched.article, enrichment, enriched.contentHash.isEmpty ? nil : enriched.contentHash)
    }

    /// `articles.id`: stable for the canonical URL.
    public var articleID: Int64
    /// The latest version's number (1 for a new article).
    public var version: Int
    /// When the store first stored it (RFC 3339, UTC).
    public var firstSeen: String
    /// When it was last delivered, changed or not.
    public var lastSeen: String
    /// The parsed fields of the latest version; `paragraphs` are rebuilt from `text`.
    public var article: ArticleParsed
    /// The enrichment, nil for an article stored from `article.parsed` only.
    public var enrichment: Enrichment?
    /// Enrich's SHA-256 when it came with one, else the store's ``ContentFingerprint``.
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
