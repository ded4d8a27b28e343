import Foundation
import GRDB
import Logging
import RunnelProtocol
import RunnelStage
import Synchronization

/// The embedded store: one SQLite file (WAL mode) through GRDB, with an FTS5 index that ignores
/// case and diacritics, Vietnamese included.
///
/// Opening for writing creates the file if needed and migrates the schema
/// (``migrator``); opening read-only requires an existing store. Every failure is a
/// ``RunnelError`` that names the file and says what to do (see `RunnelError.sqlite`); nothing
/// here traps on a bad file.
///
/// ```swift
/// let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: "news.sqlite"))
/// let results = try await store.upsert(items)          // one transaction, committed on return
/// let hits = try await store.search(try SearchQuery("phai bo ngoai giao"), limit: 10)
/// ```
public final class SQLiteArticleStore: ArticleStore {
    /// How it was opened.
    public let configuration: SQLiteStoreConfiguration
    let pool: DatabasePool
    let snippets = SnippetBuilder()
    private let closed = Mutex(false)
    /// Whether `articles` has `lead_image`: always once the store is migrated; a store of
    /// migration v2 opened read-only is read without it.
    let hasLeadImage: Bool

    /// Opens (and for `.readWrite` creates and migrates) the store.
    /// - Throws: ``RunnelError``: `NOT_FOUND` for a missing file in `.readOnly` mode, `DATA_LOSS`
    ///   for a file that is not a database or is corrupt, `UNAVAILABLE` when it stays locked
    ///   longer than the busy timeout, `FAILED_PRECONDITION` for a database that is not a store
    ///   (read-only) or a directory that does not exist.
    public init(_ configuration: SQLiteStoreConfiguration) throws(RunnelError) {
        self.configuration = configuration
        let path = configuration.path
        let readOnly = configuration.mode == .readOnly
        if readOnly, !FileManager.default.fileExists(atPath: path) {
            throw RunnelError(
                .notFound,
                "no store at \(path); store articles there first (runnel store --db \(path)) or pass the right --db")
        }
        var config = Configuration()
        config.readonly = readOnly
        config.label = "runnel.store"
        let timeout = configuration.busyTimeout.components
        config.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: config)
        } catch {
            throw .sqlite(error, path: path, doing: "opening the store")
        }
        var hasLeadImage = true
        do {
            if readOnly {
                let (isStore, leadImage) = try pool.read { db in
                    let isStore = try db.tableExists("articles") && db.tableExists("articles_fts")
                    return (isStore, try isStore && db.columns(in: "articles").contains { $0.name == "lead_image" })
                }
                hasLeadImage = leadImage
                guard isStore else {
                    throw RunnelError(
                        .failedPrecondition,
                        "\(path) is a SQLite database but not a Runnel store (it has no articles table); pass the file that `runnel store --db` wrote")
                }
            } else {
                // A store that is up to date opens with reads only, so it opens even while
                // another process holds the write lock (its batches then wait or fail alone).
                let (upToDate, superseded, applied) = try pool.read { db in
                    (
                        try Self.migrator.hasCompletedMigrations(db)
                            && Int.fetchOne(db, sql: "PRAGMA user_version") == TextFolding.version,
                        try Self.migrator.hasBeenSuperseded(db),
                        try Self.migrator.appliedIdentifiers(db)
                    )
                }
                // A newer runnel's schema may keep things in ways this one would undo (as one
                // before migration v2 drops a superseded version's text): refuse, do not guess.
                guard !superseded else {
                    throw RunnelError(
                        .failedPrecondition,
                        "\(path) was written by a newer runnel (its schema has migrations this one does not know); store with that version, or with a new database")
                }
                if !upToDate {
                    if !applied.isEmpty {
                        // An existing store: a migration rewrites tables, once, in one transaction.
                        Logger(stage: "store").info(
                            "\(path): updating the store's schema (once; on a large store this takes a while)")
                    }
                    try Self.migrator.migrate(pool)
                    try pool.write { db in try Self.rebuildIndexIfFoldingChanged(db) }
                }
                if configuration.durableCommits {
                    // GRDB sets NORMAL in WAL mode: a power cut could then undo a commit that
                    // was already acked. FULL syncs the WAL at each commit (once per batch).
                    try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
                }
            }
        } catch {
            // Thrown before every property is set, so deinit does not run (nor checkpoint).
            try? pool.close()
            throw .sqlite(error, path: path, doing: readOnly ? "checking the schema" : "migrating the schema")
        }
        self.pool = pool
        self.hasLeadImage = hasLeadImage
    }

    deinit {
        close()
    }

    public func upsert(_ batch: [StoreItem]) async throws(RunnelError) -> [StoreResult] {
        guard !batch.isEmpty else { return [] }
        guard configuration.mode == .readWrite else {
            throw RunnelError(.failedPrecondition, "the store at \(configuration.path) was opened read-only")
        }
        let now = Timestamp.now()
        do {
            return try await pool.write { db in
                var results: [StoreResult] = []
                results.reserveCapacity(batch.count)
                for item in batch { results.append(try Self.store(item, in: db, at: now)) }
                return results
            }
        } catch {
            throw .sqlite(error, path: configuration.path, doing: "storing a batch of \(batch.count)")
        }
    }

    /// Ranks by BM25 over the folded index (title ×4), words standing together first (see
    /// ``SearchQuery/matchExpression``), then moves the hits that have the query's marked words
    /// as written (``SearchQuery/markedWords``) ahead of those that match only when folded and
    /// folds near-duplicates together (``NearDuplicates``), among the best `max(4 × limit, 50)`
    /// (more while collapsing leaves fewer than `limit`).
    public func search(_ query: SearchQuery, limit: Int, duplicates: NearDuplicates) async throws(RunnelError) -> [SearchHit] {
        let expression = query.matchExpression
        let pool = pool
        let leadImage = hasLeadImage ? "a.lead_image" : "NULL AS lead_image"  // a store of v2, read as it is
        let path = configuration.path
        return try await snippets.finish(for: query, limit: limit, duplicates: duplicates) { candidates throws(RunnelError) in
            do {
                return try pool.read { db in
                    try Row.fetchAll(
                        db,
                        sql: """
                            SELECT a.id, a.title, a.canonical_url, a.published_at, a.text, a.simhash, \(leadImage),
                                   bm25(articles_fts, 4.0, 1.0) AS score
                            FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid
                            WHERE articles_fts MATCH ?
                            ORDER BY score, a.id
                            LIMIT ?
                            """,
                        arguments: [expression, candidates]
                    ).map { row in
                        let hit = SearchHit(
                            articleID: row["id"], title: row["title"], url: row["canonical_url"],
                            publishedAt: row["published_at"], score: row["score"], snippet: Snippet(segments: []),
                            simhash: row["simhash"], leadImage: row["lead_image"])
                        return (hit, row["text"])
                    }
                }
            } catch {
                throw .sqlite(error, path: path, doing: "searching for \(query.quoted)")
            }
        }
    }

    public func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle] {
        try await Self.articles(after: afterID, limit: limit, from: pool, path: configuration.path)
    }

    /// Every stored article, by id, every page read from one snapshot of the database taken
    /// when the export starts: what is written meanwhile is not part of it.
    public func export(pageSize: Int) -> ArticleExport {
        let path = configuration.path
        let snapshot: Result<DatabaseSnapshot, RunnelError>
        do {
            snapshot = .success(try pool.makeSnapshot())
        } catch {
            snapshot = .failure(RunnelError.sqlite(error, path: path, doing: "starting an export"))
        }
        return ArticleExport(pageSize: pageSize) { after, limit throws(RunnelError) in
            try await Self.articles(after: after, limit: limit, from: snapshot.get(), path: path)
        }
    }

    static func articles(
        after afterID: Int64, limit: Int, from reader: some DatabaseReader, path: String
    ) async throws(RunnelError) -> [StoredArticle] {
        do {
            return try await reader.read { db in
                let rows = try Row.fetchAll(
                    db, sql: "SELECT * FROM articles WHERE id > ? ORDER BY id LIMIT ?", arguments: [afterID, limit])
                return try rows.map { try Self.storedArticle($0, in: db) }
            }
        } catch {
            throw .sqlite(error, path: path, doing: "reading articles")
        }
    }

    /// Moves what the WAL holds into the database file and closes it, leaving one
    /// self-contained file to copy; later calls fail.
    public func close() {
        // Once only: GRDB does not guard a checkpoint on a closed connection.
        guard closed.withLock({ wasClosed in defer { wasClosed = true }; return !wasClosed }) else { return }
        if configuration.mode == .readWrite {
            _ = try? pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
        }
        try? pool.close()
    }
}
