import Foundation
import GRDB
import RunnelProtocol
import StoreStage
import Synchronization
import Testing

/// The two kinds of store, for tests that check both behave alike.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

/// The test PostgreSQL server: `RUNNEL_TEST_POSTGRES`, which Scripts/test.sh sets. Without it the
/// PostgreSQL tests fail (they are never skipped).
enum TestPostgres {
    static func serverURL() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["RUNNEL_TEST_POSTGRES"], !url.isEmpty else {
            throw RunnelError(
                .failedPrecondition,
                "RUNNEL_TEST_POSTGRES is not set, so the PostgreSQL store cannot be tested: run Scripts/test.sh, or start one with Scripts/lib/postgres.sh and set RUNNEL_TEST_POSTGRES to the URL it prints")
        }
        return url
    }

    /// Runs SQL with `psql` against `url` and returns its unaligned, tuples-only output.
    @discardableResult
    static func psql(_ url: String, _ sql: String) throws -> String {
        let process = Process()
        let bin = ProcessInfo.processInfo.environment["RUNNEL_TEST_POSTGRES_BIN"].map { $0 + "/psql" }
        if let bin, FileManager.default.isExecutableFile(atPath: bin) {
            process.executableURL = URL(fileURLWithPath: bin)
            process.arguments = ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql]
        }
        // Its output goes to files, read once it has exited: no pipe to fill up while the other
        // is read, and no read that another test's SIGCHLD interrupts (Foundation's
        // readDataToEndOfFile traps on EINTR).
        let files = (0..<2).map { _ in FileManager.default.temporaryDirectory.appendingPathComponent("psql-\(UUID().uuidString)") }
        defer { for file in files { try? FileManager.default.removeItem(at: file) } }
        for file in files { FileManager.default.createFile(atPath: file.path, contents: nil) }
        process.standardOutput = try FileHandle(forWritingTo: files[0])
        process.standardError = try FileHandle(forWritingTo: files[1])
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let output = (try? Data(contentsOf: files[0])) ?? Data()
        let errors = (try? Data(contentsOf: files[1])) ?? Data()
        guard process.terminationStatus == 0 else {
            throw RunnelError(.internal, "psql failed on \(sql): \(String(decoding: errors, as: UTF8.self))")
        }
        return String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// `url` with its database replaced by `name`.
    static func url(_ server: String, database name: String) throws -> String {
        guard var components = URLComponents(string: server) else {
            throw RunnelError(.invalidArgument, "RUNNEL_TEST_POSTGRES=\(server) is not a URL")
        }
        components.path = "/" + name
        return components.string ?? server
    }
}

/// One test's own database: a SQLite file in a temporary directory, or a new database on the
/// test PostgreSQL server (so tests run in parallel), dropped at the end.
final class TestDatabase: @unchecked Sendable {
    let backend: Backend
    /// What `--db` would be: the file path or the PostgreSQL URL.
    let db: String
    private let directory: TemporaryDirectory?
    private let server: String?
    private let name: String?
    private let opened = Mutex<[PostgresArticleStore]>([])

    init(_ backend: Backend) throws {
        self.backend = backend
        switch backend {
        case .sqlite:
            let directory = try TemporaryDirectory()
            self.directory = directory
            db = directory.path("news.sqlite")
            server = nil
            name = nil
        case .postgres:
            let server = try TestPostgres.serverURL()
            let name = "runnel_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            try TestPostgres.psql(server, "CREATE DATABASE \(name)")
            self.server = server
            self.name = name
            db = try TestPostgres.url(server, database: name)
            directory = nil
        }
    }

    deinit {
        if let server, let name {
            _ = try? TestPostgres.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
        }
    }

    /// The store stage over this database.
    func stage() throws -> StoreStage {
        switch backend {
        case .sqlite: return StoreStage(configuration: SQLiteStoreConfiguration(path: db, busyTimeout: .seconds(10)))
        case .postgres: return StoreStage(postgres: try PostgresStoreConfiguration(url: db))
        }
    }

    /// A store over this database (read-write by default).
    func store(_ mode: SQLiteStoreConfiguration.Mode = .readWrite) async throws -> any ArticleStore {
        switch backend {
        case .sqlite:
            return try SQLiteArticleStore(SQLiteStoreConfiguration(path: db, mode: mode, busyTimeout: .seconds(10)))
        case .postgres:
            let store = try await PostgresArticleStore.open(PostgresStoreConfiguration(url: db, mode: mode))
            opened.withLock { $0.append(store) }
            return store
        }
    }

    /// Closes the PostgreSQL stores this database opened.
    func close() async {
        let stores = opened.withLock { $0 }
        for store in stores { await store.close() }
    }

    /// `SELECT count(*) FROM table WHERE condition`, read directly from the database.
    func count(_ table: String, where condition: String = "true") throws -> Int {
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: db)
            defer { try? queue.close() }
            let sqlite = condition == "true" ? "1" : condition
            return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(sqlite)") ?? -1 }
        case .postgres:
            return Int(try TestPostgres.psql(db, "SELECT count(*) FROM \(table) WHERE \(condition)")) ?? -1
        }
    }
}
