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

    /// A hit; the store makes these.
    public init(articleID: Int64, title: String, url: String, publishedAt: String?, score: Double, snippet: Snippet) {
        self.articleID = articleID
        self.title = title
        self.url = url
        self.publishedAt = publishedAt
        self.score = score
        self.snippet = snippet
    }

    enum CodingKeys: String, CodingKey {
        case title, url, score, snippet
        case articleID = "article_id"
        case publishedAt = "published_at"
    }
}
