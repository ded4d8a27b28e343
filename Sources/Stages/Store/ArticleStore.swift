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

    /// The best `limit` articles for a query, best first.
    func search(_ query: SearchQuery, limit: Int) async throws(RunnelError) -> [SearchHit]

    /// Up to `limit` stored articles whose id is greater than `afterID`, by id: one page of an export.
    func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle]
}

extension ArticleStore {
    /// Every stored article, by id, read a page at a time so memory stays small.
    ///
    /// ```swift
    /// for try await article in store.export() { try write(article) }
    /// ```
    public func export(pageSize: Int = 200) -> AsyncThrowingStream<StoredArticle, any Error> {
        let (stream, continuation) = AsyncThrowingStream<StoredArticle, any Error>.makeStream(bufferingPolicy: .bufferingNewest(pageSize * 2))
        let task = Task {
            var after: Int64 = 0
            do {
                while !Task.isCancelled {
                    let page = try await articles(after: after, limit: pageSize)
                    for article in page { continuation.yield(article) }
                    guard page.count == pageSize, let last = page.last else { break }
                    after = last.articleID
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}
