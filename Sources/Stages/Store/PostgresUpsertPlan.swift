import RunnelProtocol

/// An article of a batch as it came.
struct ArticleInput: Sendable {
    /// Its position among the batch's items.
    let index: Int
    let article: ArticleParsed
    let enrichment: StoredArticle.Enrichment?
    /// The enrichment's content hash, when it has one.
    let contentHash: String?
}

/// An article of a batch with what the store works out from it once: the key it is stored
/// under, its fingerprint, content hash and `tsvector`.
struct PreparedArticle: Sendable {
    /// Its position among the batch's items.
    let index: Int
    let article: ArticleParsed
    let enrichment: StoredArticle.Enrichment?
    let key: String
    let fingerprint: String
    let contentHash: String
    let vector: String

    init(_ input: ArticleInput) {
        self.init(index: input.index, article: input.article, enrichment: input.enrichment, contentHash: input.contentHash)
    }

    init(index: Int, article: ArticleParsed, enrichment: StoredArticle.Enrichment?, contentHash: String?) {
        self.index = index
        self.article = article
        self.enrichment = enrichment
        key = ArticleKey.of(article)
        fingerprint = ContentFingerprint.of(title: article.title, text: article.text)
        self.contentHash = contentHash ?? fingerprint
        vector = PostgresTextSearch.vector(title: article.title, text: article.text)
    }
}

/// What a batch of articles does to the PostgreSQL store, worked out in memory: a pure value,
/// so a batch is a handful of set-based statements instead of several per article.
///
/// The batch's articles were first inserted together (`ON CONFLICT DO NOTHING`), which gives
/// ``init(_:inserted:existing:earlier:)`` the keys that were new; the rows of the others were
/// locked and read (`existing`), with the versions their fingerprints match (`earlier`). Going
/// through the articles in order, as the one-statement-per-article store did, a later article
/// sees an earlier one: each is `inserted`, `updated` (a new version) or `unchanged` (the current
/// version's fingerprint, or an earlier version's), and an article stored before it was
/// enriched gets its enrichment filled in. What remains to be written is the net effect: one
/// row rewrite per article whose content changed, the new `versions` rows, and the final child
/// rows of each article whose children changed.
///
/// ```swift
/// let plan = try PostgresUpsertPlan(articles, inserted: ["https://a.vn/1": 7], existing: [:], earlier: [:])
/// plan.results[0]   // ArticleStored(…, articleID: 7, action: .inserted, version: 1)
/// ```
struct PostgresUpsertPlan: Sendable {
    /// An article row as the database holds it, locked for this transaction.
    struct Current: Sendable {
        var id: Int64
        var version: Int
        var fingerprint: String
        var languageIsNull: Bool
    }

    /// The enrichment of a redelivery whose article had none yet.
    struct Fill: Sendable {
        var enrichment: StoredArticle.Enrichment
        var contentHash: String
    }

    /// An article row written again in full: the content of `content`, enriched by `fill` when
    /// an enrichment was filled in after it.
    struct Rewrite: Sendable {
        var id: Int64
        var version: Int
        var content: PreparedArticle
        var fill: Fill?
    }

    /// What was done with each article, in the order of `articles`.
    private(set) var results: [ArticleStored] = []
    /// Rows to write again in full (a new version, or a row inserted in this batch and changed later in it).
    private(set) var rewrites: [Rewrite] = []
    /// Rows of earlier batches whose enrichment is filled in (their content unchanged).
    private(set) var fills: [(id: Int64, fill: Fill)] = []
    /// Rows of earlier batches redelivered unchanged: only `last_seen` moves.
    private(set) var touched: [Int64] = []
    /// New `versions` rows.
    private(set) var versions: [(id: Int64, version: Int, article: PreparedArticle)] = []
    /// Articles of earlier batches whose links are replaced.
    private(set) var clearedLinks: [Int64] = []
    /// Articles of earlier batches whose entities and keywords are replaced.
    private(set) var clearedEnrichment: [Int64] = []
    /// Links to insert: the article whose `related` and `outlinks` they are.
    private(set) var links: [(id: Int64, article: ArticleParsed)] = []
    /// Entities and keywords to insert.
    private(set) var enrichments: [(id: Int64, enrichment: StoredArticle.Enrichment)] = []

    /// One key's state while the batch is gone through.
    private struct KeyState {
        var current: Current
        /// The largest version of each fingerprint known (from the database and this batch).
        var versions: [String: Int]
        var existedBefore: Bool
        /// The batch index of the article that inserted the row, when one did.
        var insertedBy: Int?
        /// The article whose content the row now holds, when written in this batch.
        var content: PreparedArticle?
        var fill: Fill?
        var touched = false
        var linksChanged = false
        var enrichmentChanged = false
        /// The entities and keywords the row ends with, when they changed.
        var enrichment: StoredArticle.Enrichment?
    }

    /// Goes through `articles` in order.
    /// - Parameters:
    ///   - articles: the batch's articles, in order.
    ///   - inserted: the id of each key whose row this batch's insert created (by its first article).
    ///   - existing: the locked row of every other key.
    ///   - earlier: for rows in `existing`, the largest version of each fingerprint that `versions` holds
    ///     (at least those of the batch's articles).
    /// - Throws: `UNAVAILABLE` when a key is in neither (another connection deleted its row meanwhile).
    init(
        _ articles: [PreparedArticle], inserted: [String: Int64], existing: [String: Current], earlier: [Int64: [String: Int]]
    ) throws(RunnelError) {
        var states: [String: KeyState] = [:]
        var order: [String] = []
        results.reserveCapacity(articles.count)
        for prepared in articles {
            let key = prepared.key
            guard var state = states[key] else {
                if let id = inserted[key] {
                    states[key] = KeyState(
                        current: Current(id: id, version: 1, fingerprint: prepared.fingerprint, languageIsNull: prepared.enrichment == nil),
                        versions: [prepared.fingerprint: 1], existedBefore: false, insertedBy: prepared.index, content: prepared,
                        enrichment: prepared.enrichment)
                    order.append(key)
                    versions.append((id, 1, prepared))
                    results.append(Self.stored(prepared, id: id, .inserted, version: 1))
                    continue
                }
                guard let current = existing[key] else {
                    throw RunnelError(.unavailable, "the article \(key) was deleted by another connection while it was being stored")
                }
                // The current version is the latest of its fingerprint: a later article of the
                // batch may come back to it after a new version.
                var known = earlier[current.id] ?? [:]
                known[current.fingerprint] = current.version
                states[key] = KeyState(current: current, versions: known, existedBefore: true)
                order.append(key)
                results.append(Self.apply(prepared, to: &states[key]!, versions: &versions))
                continue
            }
            results.append(Self.apply(prepared, to: &state, versions: &versions))
            states[key] = state
        }

        for key in order {
            guard let state = states[key] else { continue }
            let id = state.current.id
            if let content = state.content {
                if content.index != state.insertedBy || state.fill != nil {
                    rewrites.append(Rewrite(id: id, version: state.current.version, content: content, fill: state.fill))
                }
            } else if let fill = state.fill {
                fills.append((id, fill))
            } else if state.touched && state.existedBefore {
                touched.append(id)
            }
            if state.linksChanged || state.insertedBy != nil, let content = state.content {
                if state.existedBefore { clearedLinks.append(id) }
                links.append((id, content.article))
            }
            if state.enrichmentChanged || state.insertedBy != nil {
                if state.existedBefore { clearedEnrichment.append(id) }
                if let enrichment = state.enrichment { enrichments.append((id, enrichment)) }
            }
        }
    }

    /// What one article does to its key's row, as the one-statement-per-article store decided it.
    private static func apply(
        _ prepared: PreparedArticle, to state: inout KeyState, versions: inout [(id: Int64, version: Int, article: PreparedArticle)]
    ) -> ArticleStored {
        let id = state.current.id
        if state.current.fingerprint == prepared.fingerprint {
            state.touched = true
            if let enrichment = prepared.enrichment, state.current.languageIsNull {
                state.fill = Fill(enrichment: enrichment, contentHash: prepared.contentHash)
                state.enrichment = enrichment
                state.enrichmentChanged = true
                state.current.languageIsNull = false
            }
            return stored(prepared, id: id, .unchanged, version: state.current.version)
        }
        if let earlier = state.versions[prepared.fingerprint] {
            state.touched = true
            return stored(prepared, id: id, .unchanged, version: earlier)
        }
        let version = state.current.version + 1
        state.current = Current(id: id, version: version, fingerprint: prepared.fingerprint, languageIsNull: prepared.enrichment == nil)
        state.versions[prepared.fingerprint] = version
        state.content = prepared
        state.fill = nil
        state.enrichment = prepared.enrichment
        state.linksChanged = true
        state.enrichmentChanged = true
        versions.append((id, version, prepared))
        return stored(prepared, id: id, .updated, version: version)
    }

    private static func stored(_ prepared: PreparedArticle, id: Int64, _ action: ArticleStored.Action, version: Int) -> ArticleStored {
        ArticleStored(url: prepared.article.url, canonicalURL: prepared.key, articleID: id, action: action, version: version)
    }
}
