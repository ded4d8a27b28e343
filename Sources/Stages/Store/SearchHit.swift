/// One article found by a search, best hits first.
///
/// ```swift
/// print(hit.title, hit.url, hit.publishedAt ?? "", hit.snippet.render(open: "[", close: "]"))
/// ```
public struct SearchHit: Sendable, Hashable, Codable {
    /// The article's `articles.id` (the `article_id` of its `article.stored`).
    public var articleID: Int64
    /// The title of the article's latest version.
    public var title: String
    /// The canonical URL when known, else the fetched URL.
    public var url: String
    /// When the page says it was published, as it says it (ISO 8601 when the parser could tell).
    public var publishedAt: String?
    /// BM25 relevance as SQLite computes it (title words weigh more than body words): lower is better.
    public var score: Double
    /// The passage of the text around the matched words, from the original text.
    public var snippet: Snippet
    /// Enrich's 64-bit SimHash (16 hex digits), nil for an article that was only parsed.
    public var simhash: String?
    /// The URLs of near-duplicates of this article that the search folded into it, best-ranked
    /// first (see ``NearDuplicates``); empty when it has none or they were kept apart.
    public var alsoAt: [String]
    /// The picture the page declares for itself (`lead_image`), absolute; nil when it declares
    /// none or was stored before stores kept it.
    public var leadImage: String?

    /// A hit; the store makes these.
    public init(
        articleID: Int64, title: String, url: String, publishedAt: String?, score: Double, snippet: Snippet,
        simhash: String? = nil, alsoAt: [String] = [], leadImage: String? = nil
    ) {
        self.articleID = articleID
        self.title = title
        self.url = url
        self.publishedAt = publishedAt
        self.score = score
        self.snippet = snippet
        self.simhash = simhash
        self.alsoAt = alsoAt
        self.leadImage = leadImage
    }

    enum CodingKeys: String, CodingKey {
        case title, url, score, snippet, simhash
        case articleID = "article_id"
        case publishedAt = "published_at"
        case alsoAt = "also_at"
        case leadImage = "lead_image"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            articleID: try c.decode(Int64.self, forKey: .articleID), title: try c.decode(String.self, forKey: .title),
            url: try c.decode(String.self, forKey: .url), publishedAt: try c.decodeIfPresent(String.self, forKey: .publishedAt),
            score: try c.decode(Double.self, forKey: .score), snippet: try c.decode(Snippet.self, forKey: .snippet),
            simhash: try c.decodeIfPresent(String.self, forKey: .simhash),
            alsoAt: try c.decodeIfPresent([String].self, forKey: .alsoAt) ?? [],
            leadImage: try c.decodeIfPresent(String.self, forKey: .leadImage))
    }
}
