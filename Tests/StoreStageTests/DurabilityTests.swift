import GRDB
@testable import StoreStage
import Testing

@Suite struct DurabilityTests {
    @Test func commitsAreSyncedByDefaultAndNotWhenOptedOut() async throws {
        let dir = try TemporaryDirectory()
        let durable = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("a.sqlite")))
        let fast = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("b.sqlite"), durableCommits: false))

        // 2 = FULL, 1 = NORMAL (what GRDB sets in WAL mode).
        #expect(try await durable.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 2)
        #expect(try await fast.pool.write { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") } == 1)
        #expect(try await durable.pool.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") } == "wal")
    }
}
