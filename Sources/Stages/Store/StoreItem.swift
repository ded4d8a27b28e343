import RunnelProtocol

/// One input of the store: an article (enriched or only parsed) or an error record.
///
/// `messageID` is the id of the message it came in; a failure is recorded once per id, so a
/// redelivered error record is not counted twice.
public enum StoreItem: Sendable, Hashable {
    /// An `article.enriched` body.
    case enriched(ArticleEnriched, messageID: String)
    /// An `article.parsed` body: stored with the enrichment columns empty.
    case parsed(ArticleParsed, messageID: String)
    /// An `error` body that reached the store (in a shell pipe, failures travel downstream).
    case failure(ErrorRecord, messageID: String)

    /// The parsed part of an article item.
    public var article: ArticleParsed? {
        switch self {
        case let .enriched(enriched, _): enriched.article
        case let .parsed(parsed, _): parsed
        case .failure: nil
        }
    }
}

/// What the store did with one ``StoreItem``.
public enum StoreResult: Sendable, Hashable {
    /// An article was inserted, updated or found unchanged.
    case stored(ArticleStored)
    /// An error record was written to the failures table (or was already there).
    case recordedFailure
}
