import Foundation
import PostgresNIO
import RunnelProtocol

/// The store for many hosts: a PostgreSQL database through postgres-nio's connection pool, with
/// the SQLite store's schema and upsert semantics and a `tsvector` index of the *folded* text
/// (``TextFolding``), so search ignores case and diacritics exactly as the SQLite store does.
///
/// Several store processes on several hosts may write to one database at once: an article row is
/// created with `INSERT … ON CONFLICT (canonical_url) DO NOTHING` and then locked (`FOR UPDATE`)
/// before it is compared and updated, so concurrent deliveries of one article leave one row and
/// one version. ``open(_:)`` connects once directly before starting the pool, so an unreachable
/// server, a rejected login or a missing database fails at once with its own status instead of
/// after the pool's retries. Call ``close()`` when done: it stops the pool.
///
/// ```swift
/// let store = try await PostgresArticleStore.open(try PostgresStoreConfiguration(url: "postgres://runnel@db1/news"))
/// let results = try await store.upsert(items)   // one transaction, committed on return
/// await store.close()
/// ```
public final class PostgresArticleStore: ArticleStore {
    /// Where it is and how it was opened.
    public let configuration: PostgresStoreConfiguration
    /// Whether `articles` has `lead_image`: always once the store is migrated; a store of
    /// schema 2 or before opened to read (which migrates nothing) has not.
    let hasLeadImage: Bool
    let client: PostgresClient
    let running: Task<Void, Never>
    let logger: Logger
    let snippets = SnippetBuilder()

    /// The server as messages name it, without a password.
    var url: String { configuration.displayURL }

    /// Connects, checks (read-only) or creates and migrates (read-write) the schema, and starts
    /// the connection pool.
    /// - Throws: ``RunnelError``: `UNAVAILABLE` when the server cannot be reached (retry),
    ///   `UNAUTHENTICATED` when it rejects the login, `NOT_FOUND` for a missing database,
    ///   `FAILED_PRECONDITION` for a database without a store when reading.
    public static func open(_ configuration: PostgresStoreConfiguration) async throws(RunnelError) -> PostgresArticleStore {
        let logger = quietLogger
        do {
            let connection = try await connect(configuration, logger: logger)
            let hasLeadImage: Bool
            do {
                if configuration.mode == .readWrite {
                    try await migrate(connection, logger: logger)
                    hasLeadImage = true
                } else {
                    try await checkSchema(connection, url: configuration.displayURL, logger: logger)
                    hasLeadImage = try await hasColumn("lead_image", of: "articles", connection, logger: logger)
                }
            } catch {
                try? await connection.close()
                throw error
            }
            try? await connection.close()
            return PostgresArticleStore(configuration, hasLeadImage: hasLeadImage, logger: logger)
        } catch {
            throw .postgres(error, url: configuration.displayURL, doing: configuration.mode == .readWrite ? "migrating the schema" : "opening the store")
        }
    }

    private init(_ configuration: PostgresStoreConfiguration, hasLeadImage: Bool, logger: Logger) {
        self.configuration = configuration
        self.hasLeadImage = hasLeadImage
        self.logger = logger
        var pool = PostgresClient.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: Self.clientTLS(configuration.tls))
        pool.options.connectTimeout = configuration.connectTimeout
        pool.options.maximumConnections = configuration.maximumConnections
        let client = PostgresClient(configuration: pool, backgroundLogger: logger)
        self.client = client
        running = Task { await client.run() }
    }

    deinit {
        running.cancel()
    }

    /// Stops the pool and closes its connections; later calls fail with `UNAVAILABLE`.
    public func close() async {
        running.cancel()
        await running.value
    }

    /// Runs `body` with the pool, within ``PostgresStoreConfiguration/operationTimeout``, and
    /// maps what it throws. When the pool cannot hand out a connection in time, one direct
    /// connection finds out why (refused, login rejected, …) for the message.
    func perform<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresClient, Logger) async throws -> T
    ) async throws(RunnelError) -> T {
        let client = client
        let logger = logger
        let timeout = configuration.operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask { try await body(client, logger) }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return nil
                }
                defer { group.cancelAll() }
                guard let first = try await group.next(), let result = first else { throw OperationTimedOut() }
                return result
            }
        } catch is OperationTimedOut {
            throw await diagnose(operation, timeout: timeout)
        } catch {
            throw .postgres(error, url: url, doing: operation)
        }
    }

    struct OperationTimedOut: Error {}

    /// Why the pool had no connection: what a direct connection attempt fails with, or a timeout.
    func diagnose(_ operation: String, timeout: Duration) async -> RunnelError {
        do {
            let connection = try await Self.connect(configuration, logger: logger)
            try? await connection.close()
        } catch {
            return .postgres(error, url: url, doing: operation)
        }
        return RunnelError(
            .unavailable,
            "\(operation) on \(url) took longer than \(timeout); the server may be overloaded or a lock held elsewhere")
    }

    /// Ranks with `ts_rank` over the folded vector (title ×4, as the SQLite store's BM25 weights),
    /// words standing together ranking higher (``SearchQuery/tsPhraseQuery``), then moves the hits
    /// with the query's marked words as written ahead and folds near-duplicates together
    /// (``NearDuplicates``), among the best `max(4 × limit, 50)` (more while collapsing leaves
    /// fewer than `limit`).
    public func search(_ query: SearchQuery, limit: Int, duplicates: NearDuplicates) async throws(RunnelError) -> [SearchHit] {
        let all = query.tsQuery
        let phrase = query.tsPhraseQuery ?? all
        let leadImage = hasLeadImage ? "lead_image" : "NULL::text"  // a store of schema 2, read as it is
        return try await snippets.finish(for: query, limit: limit, duplicates: duplicates) { candidates throws(RunnelError) in
            try await perform("searching for \(query.quoted)") { client, logger in
                let rows = try await client.query(
                    """
                    SELECT id, title, canonical_url, published_at, text, simhash, \(unescaped: leadImage),
                           ts_rank('{0.25, 0.25, 0.25, 1.0}', search, q.qa) + ts_rank('{0.25, 0.25, 0.25, 1.0}', search, q.qp) AS rank
                    FROM articles, (SELECT \(all)::tsquery AS qa, \(phrase)::tsquery AS qp) AS q
                    WHERE search @@ q.qa
                    ORDER BY rank DESC, id
                    LIMIT \(candidates)
                    """,
                    logger: logger
                ).collect()
                return try rows.map { row -> (hit: SearchHit, text: String) in
                    let (id, title, url, published, text, simhash, image, rank) = try row.decode(
                        (Int64, String, String, String?, String, String?, String?, Float).self)
                    let hit = SearchHit(
                        articleID: id, title: title, url: url, publishedAt: published, score: -Double(rank),
                        snippet: Snippet(segments: []), simhash: simhash, leadImage: image)
                    return (hit, text)
                }
            }
        }
    }

    public func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle] {
        let leadImage = hasLeadImage
        return try await perform("reading articles") { client, logger in
            try await client.withConnection { connection in
                try await Self.articles(after: afterID, limit: limit, leadImage: leadImage, on: connection, logger: logger)
            }
        }
    }

    /// One direct connection (not from the pool), with the configured connect timeout.
    static func connect(_ configuration: PostgresStoreConfiguration, logger: Logger) async throws -> PostgresConnection {
        var options = PostgresConnection.Configuration(
            host: configuration.host, port: configuration.port, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: try connectionTLS(configuration.tls))
        options.options.connectTimeout = TimeAmount.nanoseconds(
            configuration.connectTimeout.components.seconds * 1_000_000_000
                + configuration.connectTimeout.components.attoseconds / 1_000_000_000)
        return try await PostgresConnection.connect(configuration: options, id: 0, logger: logger)
    }

    static func clientTLS(_ mode: PostgresStoreConfiguration.TLSMode) -> PostgresClient.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(unverified)
        case .require: return .require(unverified)
        case .verifyFull: return .require(.makeClientConfiguration())
        }
    }

    static func connectionTLS(_ mode: PostgresStoreConfiguration.TLSMode) throws -> PostgresConnection.Configuration.TLS {
        switch mode {
        case .disable: return .disable
        case .prefer: return .prefer(try NIOSSLContext(configuration: unverified))
        case .require: return .require(try NIOSSLContext(configuration: unverified))
        case .verifyFull: return .require(try NIOSSLContext(configuration: .makeClientConfiguration()))
        }
    }

    /// libpq's `prefer` and `require` encrypt without checking the certificate; so do these.
    static var unverified: TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.certificateVerification = .none
        return tls
    }

    /// postgres-nio logs connection trouble at `info` and above; the stage reports errors itself.
    static var quietLogger: Logger {
        var logger = Logger(label: "runnel.store.postgres")
        logger.logLevel = .critical
        return logger
    }
}
