import RunnelProtocol
import RunnelStage

/// The sink of the news pipeline: stores articles (enriched or only parsed) and error records,
/// one transaction per batch, and says what it did with each article.
///
/// - `article.enriched`, `article.parsed` → one `article.stored` (`inserted`, `updated` or
///   `unchanged`), upserted by canonical URL and content, so redeliveries never duplicate a row.
/// - `error` → a row in the failures table, no output: in a shell pipe nothing vanishes.
///
/// `handle(batch:)` returns only after the transaction commits, so the runner acks only stored
/// inputs. When the database cannot be opened or written (corrupt, locked, disk full), every
/// input of the batch fails with the same status and nothing is acked; the next batch tries to
/// open the database again. When a batch fails for what may be one bad item (a constraint, an
/// oversized value), its items are stored one transaction each, so only that item fails.
///
/// ```swift
/// let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: "news.sqlite"))
/// let outcomes = await stage.handle(batch: envelopes)
/// ```
public struct StoreStage: Stage {
    /// The stage's name, types and options.
    public static let service = ServiceDefinition(
        name: "store",
        summary: "Upserts articles by canonical URL and content (SQLite with a diacritics-insensitive FTS5 index, or PostgreSQL with a tsvector index) and emits what it did; keeps error records in its failures table.",
        accepts: [MessageType.articleEnriched, MessageType.articleParsed, MessageType.error],
        emits: [MessageType.articleStored],
        options: [
            .init(name: "db", type: "path", default: "news.sqlite", help: "The SQLite database file (created with its schema if missing), or a PostgreSQL server: postgres://user@host:port/dbname."),
            .init(
                name: "busy-timeout", type: "seconds", default: "5",
                help: "How long a batch waits for another connection's lock before failing with UNAVAILABLE (retried)."),
        ])

    public var service: ServiceDefinition { Self.service }

    private let source: StoreSource

    /// A stage over an SQLite file, opened on the first batch (and again after a failed open).
    public init(configuration: SQLiteStoreConfiguration) {
        source = StoreSource(opening: .sqlite(configuration))
    }

    /// A stage over a PostgreSQL database, connected on the first batch (and again after a
    /// failed connection).
    public init(postgres configuration: PostgresStoreConfiguration) {
        source = StoreSource(opening: .postgres(configuration))
    }

    /// A stage over a store that is already open (any ``ArticleStore``).
    public init(store: any ArticleStore) {
        source = StoreSource(store: store)
    }

    /// Opens the store now, to report a bad database before reading any input.
    /// - Throws: ``RunnelError`` as ``SQLiteArticleStore/init(_:)`` or ``PostgresArticleStore/open(_:)`` does.
    public func open() async throws(RunnelError) {
        _ = try await source.store()
    }

    /// Releases what the store holds open (a PostgreSQL store's connection pool).
    public func close() async {
        await source.close()
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        var outcomes = [StageOutcome?](repeating: nil, count: batch.count)
        var items: [StoreItem] = []
        var itemIndex: [Int] = []
        for (index, envelope) in batch.enumerated() {
            do throws(RunnelError) {
                items.append(try Self.item(envelope))
                itemIndex.append(index)
            } catch {
                outcomes[index] = .fail(error)
            }
        }
        if !items.isEmpty {
            let store: any ArticleStore
            do throws(RunnelError) {
                store = try await source.store()
            } catch {
                for index in itemIndex { outcomes[index] = .fail(error) }
                return outcomes.map { $0 ?? .fail(error) }
            }
            do throws(RunnelError) {
                let results = try await store.upsert(items)
                for (result, index) in zip(results, itemIndex) {
                    outcomes[index] = Self.outcome(result)
                }
            } catch where items.count > 1 && Self.mayConcernOneItem(error) {
                // One bad article must not fail the others forever: store them one at a time.
                for (item, index) in zip(items, itemIndex) {
                    do throws(RunnelError) {
                        let results = try await store.upsert([item])
                        outcomes[index] = results.first.map(Self.outcome) ?? .fail(RunnelError(.internal, "store returned no result"))
                    } catch {
                        outcomes[index] = .fail(error)
                    }
                }
            } catch {
                for index in itemIndex { outcomes[index] = .fail(error) }
            }
        }
        return outcomes.map { $0 ?? .fail(RunnelError(.internal, "store produced no outcome")) }
    }

    /// Whether a failed batch may have failed because of one of its items (bad data, a bug)
    /// rather than the database (busy, corrupt, full, unwritable), which would fail each item too.
    static func mayConcernOneItem(_ error: RunnelError) -> Bool {
        switch error.code {
        case .invalidArgument, .outOfRange, .internal, .unknown: true
        default: false
        }
    }

    /// Decodes an input into what to store.
    static func item(_ envelope: Envelope) throws(RunnelError) -> StoreItem {
        switch envelope.type {
        case MessageType.articleEnriched:
            // Read without Foundation's decoder when the body allows; the decoder explains the rest.
            // The store keeps `text`, not `paragraphs`: they are checked, not made into Strings.
            let article = try read(envelope.body, directly: ArticleEnriched.init(readingWithoutParagraphs:))
            try check(article.article)
            return .enriched(article, messageID: envelope.id)
        case MessageType.articleParsed:
            let article = try read(envelope.body, directly: ArticleParsed.init(readingWithoutParagraphs:))
            try check(article)
            return .parsed(article, messageID: envelope.id)
        case MessageType.error:
            return .failure(try envelope.body.decode(ErrorRecord.self), messageID: envelope.id)
        default:
            throw RunnelError(
                .invalidArgument,
                "store accepts article.enriched, article.parsed and error messages, not \(envelope.type); put the stage that makes articles before it")
        }
    }

    /// A body read by `directly` (``NewsBodyReader``), or by Foundation's decoder when that
    /// leaves it (which then also says what is wrong).
    static func read<T: Decodable>(_ body: RawJSON, directly: (RawJSON) -> T?) throws(RunnelError) -> T {
        if let value = directly(body) { return value }
        return try body.decode(T.self)
    }

    static func check(_ article: ArticleParsed) throws(RunnelError) {
        guard !article.url.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw RunnelError(.invalidArgument, "body.url: an article needs a URL to be stored under")
        }
    }

    static func outcome(_ result: StoreResult) -> StageOutcome {
        switch result {
        case .recordedFailure:
            return .emit([])
        case let .stored(stored):
            return .emit([Emission(type: MessageType.articleStored, body: stored.jsonBody)])
        }
    }
}

/// Hands out the stage's store, opening it on first use and again after a failed open.
actor StoreSource {
    /// What to open.
    enum Database: Sendable {
        case sqlite(SQLiteStoreConfiguration)
        case postgres(PostgresStoreConfiguration)
    }

    private var opened: (any ArticleStore)?
    private var opening: Task<Result<any ArticleStore, RunnelError>, Never>?
    private let database: Database?

    init(opening database: Database) {
        self.database = database
    }

    init(store: any ArticleStore) {
        opened = store
        database = nil
    }

    func store() async throws(RunnelError) -> any ArticleStore {
        if let opened { return opened }
        guard let database else { throw RunnelError(.internal, "store has neither a store nor a configuration") }
        // Batches handled at once wait for one open rather than each opening a pool.
        let task = opening ?? Task { await Self.open(database) }
        opening = task
        let result = await task.value
        opening = nil
        let store = try result.get()
        opened = store
        return store
    }

    static func open(_ database: Database) async -> Result<any ArticleStore, RunnelError> {
        do throws(RunnelError) {
            switch database {
            case let .sqlite(configuration): return .success(try SQLiteArticleStore(configuration))
            case let .postgres(configuration): return .success(try await PostgresArticleStore.open(configuration))
            }
        } catch {
            return .failure(error)
        }
    }

    /// Closes a PostgreSQL store's connection pool; a SQLite store closes when it is released.
    func close() async {
        if let store = opened as? PostgresArticleStore { await store.close() }
    }
}
