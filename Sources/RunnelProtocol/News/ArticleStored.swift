/// `article.stored`: what the store did with an article.
public struct ArticleStored: Sendable, Hashable, Codable {
    public enum Action: String, Sendable, Hashable, Codable {
        /// A new article.
        case inserted
        /// Known URL, new content: a new version was kept.
        case updated
        /// Known URL and content (a redelivery): nothing changed.
        case unchanged
    }

    public var url: String
    public var canonicalURL: String
    public var articleID: Int64
    public var action: Action
    public var version: Int

    enum CodingKeys: String, CodingKey {
        case url, action, version
        case canonicalURL = "canonical_url"
        case articleID = "article_id"
    }

    public init(url: String, canonicalURL: String, articleID: Int64, action: Action, version: Int) {
        self.url = url
        self.canonicalURL = canonicalURL
        self.articleID = articleID
        self.action = action
        self.version = version
    }
}
