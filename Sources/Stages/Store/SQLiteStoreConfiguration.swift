/// How to open a SQLite store.
///
/// ```swift
/// var configuration = SQLiteStoreConfiguration(path: "news.sqlite")
/// configuration.busyTimeout = .seconds(10)
/// ```
public struct SQLiteStoreConfiguration: Sendable, Hashable {
    /// Whether the store may write.
    public enum Mode: Sendable, Hashable {
        /// Create the file if missing, migrate the schema, write (the store stage).
        case readWrite
        /// Read an existing store only; a missing file is `NOT_FOUND` (search, export).
        case readOnly
    }

    /// The database file. Its directory must exist; SQLite adds `-wal` and `-shm` files beside it.
    public var path: String
    /// Whether to write (the stage) or only read (search, export).
    public var mode: Mode
    /// How long a statement waits for another connection's lock before failing with `UNAVAILABLE`.
    public var busyTimeout: Duration
    /// Whether a commit is on disk when ``SQLiteArticleStore/upsert(_:)`` returns, power cuts
    /// included (`PRAGMA synchronous = FULL`, one WAL sync per batch). The stage acks after the
    /// commit, so turning this off trades at-least-once across power loss for speed.
    public var durableCommits: Bool

    /// A configuration with defaults: read-write, 5 s busy timeout, durable commits.
    /// How long a connection waits for another's lock by default.
    public static let defaultBusyTimeout = Duration.seconds(5)

    public init(
        path: String, mode: Mode = .readWrite, busyTimeout: Duration = defaultBusyTimeout, durableCommits: Bool = true
    ) {
        self.path = path
        self.mode = mode
        self.busyTimeout = busyTimeout
        self.durableCommits = durableCommits
    }
}
