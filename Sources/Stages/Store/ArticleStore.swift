import RunnelProtocol

/// Where the store stage keeps articles: a database behind one interface, so SQLite (embedded,
/// ``SQLiteArticleStore``) and PostgreSQL (many hosts, later) are interchangeable.
///
/// An implementation must make ``upsert(_:)`` one transaction that has committed when it returns
/// (the stage acks its inputs then), and idempotent: the same item stored twice leaves one row
/// and says `unchanged` the second time.
///
/// ```swift
/// let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: "news.sqlite"))
/// let results = try await store.upsert([.parsed(article, messageID: envelope.id)])
/// for hit in try await store.search(try SearchQuery("phai bo"), limit: 10) { print(hit.title) }
/// for try await article in store.export() { print(article.article.url) }
/// ```
public protocol ArticleStore: Sendable {
    /// Stores a batch in one transaction, in order (a later item sees an earlier one).
    /// - Returns: one result per item, in the same order.
    /// - Throws: ``RunnelError`` for the whole batch (nothing was stored): `UNAVAILABLE` when the
    ///   database is busy or unreachable (retry), `DATA_LOSS` when it is corrupt, and so on.
    func upsert(_ batch: [StoreItem]) async throws(RunnelError) -> [StoreResult]

    /// The best `limit` articles for a query, best first; with `duplicates` ``NearDuplicates/collapsed``
    /// copies of one article count once (the best-ranked, with the others' URLs in
    /// ``SearchHit/alsoAt``), and `limit` counts what remains.
    func search(_ query: SearchQuery, limit: Int, duplicates: NearDuplicates) async throws(RunnelError) -> [SearchHit]

    /// Up to `limit` stored articles whose id is greater than `afterID`, by id: one page of an export.
    func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle]

    /// Every stored article, by id, read a page of `pageSize` at a time as the caller asks for
    /// them, so memory holds one page. An implementation that can should read every page from
    /// one snapshot of the database.
    func export(pageSize: Int) -> ArticleExport
}

extension ArticleStore {
    /// The best `limit` articles for a query, best first, near-duplicates collapsed (see
    /// ``search(_:limit:duplicates:)``).
    public func search(_ query: SearchQuery, limit: Int) async throws(RunnelError) -> [SearchHit] {
        try await search(query, limit: limit, duplicates: .collapsed)
    }

    /// Every stored article, by id (see ``export(pageSize:)``).
    ///
    /// ```swift
    /// for try await article in store.export() { try write(article) }
    /// ```
    public func export() -> ArticleExport {
        export(pageSize: 200)
    }

    /// Pages of ``articles(after:limit:)``, each its own read: a store written meanwhile may show
    /// some articles at a later state than others.
    public func export(pageSize: Int) -> ArticleExport {
        ArticleExport(pageSize: pageSize) { after, limit throws(RunnelError) in
            try await articles(after: after, limit: limit)
        }
    }
}

/// The stored articles, by id, fetched a page at a time when the iteration needs the next one.
///
/// ```swift
/// for try await article in store.export(pageSize: 100) { print(article.article.url) }
/// ```
public struct ArticleExport: AsyncSequence, Sendable {
    public typealias Element = StoredArticle

    /// Reads the page of up to `limit` articles whose id is greater than `after`.
    public typealias Page = @Sendable (_ after: Int64, _ limit: Int) async throws(RunnelError) -> [StoredArticle]

    let pageSize: Int
    let page: Page

    /// An export that reads its pages with `page`.
    public init(pageSize: Int, page: @escaping Page) {
        self.pageSize = Swift.max(1, pageSize)
        self.page = page
    }

    public func makeAsyncIterator() -> Iterator {
        Iterator(pageSize: pageSize, page: page)
    }

    /// Hands out one page's articles, then reads the next page.
    public struct Iterator: AsyncIteratorProtocol {
        let pageSize: Int
        let page: Page
        var buffer: [StoredArticle] = []
        var index = 0
        var after: Int64 = 0
        var finished = false

        init(pageSize: Int, page: @escaping Page) {
            self.pageSize = pageSize
            self.page = page
        }

        public mutating func next() async throws(RunnelError) -> StoredArticle? {
            if index == buffer.count {
                guard !finished else { return nil }
                buffer = try await page(after, pageSize)
                index = 0
                finished = buffer.count < pageSize
                guard let last = buffer.last else {
                    finished = true
                    return nil
                }
                after = last.articleID
            }
            defer { index += 1 }
            return buffer[index]
        }
    }
}
