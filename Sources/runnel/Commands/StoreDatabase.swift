import RunnelProtocol
import StoreStage

/// What `--db` names for store, search and export: a SQLite file, or a PostgreSQL server when it
/// is a `postgres://` or `postgresql://` URL.
///
/// ```swift
/// let opened = try await StoreDatabase.openForReading("postgres://runnel@db1/news")
/// defer { Task { await opened.close() } }
/// ```
enum StoreDatabase {
    /// `--db` as messages show it: a PostgreSQL URL without its password.
    static func displayName(_ db: String) -> String {
        guard PostgresStoreConfiguration.isURL(db) else { return db }
        return (try? PostgresStoreConfiguration(url: db).displayURL) ?? PostgresStoreConfiguration.redacting(db)
    }

    /// The store stage over `db`.
    static func stage(_ db: String, busyTimeout: TimeSpan) throws(RunnelError) -> StoreStage {
        if PostgresStoreConfiguration.isURL(db) {
            return StoreStage(postgres: try PostgresStoreConfiguration(url: db))
        }
        return StoreStage(
            configuration: SQLiteStoreConfiguration(path: db, busyTimeout: busyTimeout.duration))
    }

    /// An open store, and how to let go of it.
    struct Opened {
        let store: any ArticleStore
        private let postgres: PostgresArticleStore?

        init(_ store: any ArticleStore) {
            self.store = store
            postgres = store as? PostgresArticleStore
        }

        /// Stops a PostgreSQL store's connection pool (a SQLite store closes when released).
        func close() async {
            await postgres?.close()
        }
    }

    /// An existing store, opened to read (search, export).
    static func openForReading(_ db: String) async throws(RunnelError) -> Opened {
        if PostgresStoreConfiguration.isURL(db) {
            return Opened(try await PostgresArticleStore.open(PostgresStoreConfiguration(url: db, mode: .readOnly)))
        }
        return Opened(try SQLiteArticleStore(SQLiteStoreConfiguration(path: db, mode: .readOnly)))
    }
}
