import Foundation
import GRDB
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

@Suite struct DatabaseFailureTests {
    @Test func garbageFileFailsEveryInputWithDataLossNamingThePath() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let garbage = (0..<16384).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) }
        try Data(garbage).write(to: URL(fileURLWithPath: path))
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let batch = [try Fixture.envelope(Fixture.parsed()), try Fixture.errorEnvelope()]

        let outcomes = await stage.handle(batch: batch)

        #expect(outcomes.count == 2)
        for outcome in outcomes {
            let error = try #require(outcome.failure)
            #expect(error.code == .dataLoss)
            #expect(error.message.contains(path))
            #expect(error.message.contains("mv "), "says what to do: \(error.message)")
        }
        // The file was left as it was: nobody's data is overwritten.
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(garbage))
    }

    @Test func corruptPagesAfterAValidHeaderFailWithoutACrash() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        do {
            let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))
            var items: [StoreItem] = []
            for i in 0..<50 {
                items.append(.parsed(Fixture.parsed(url: "https://example.vn/\(i)", canonical: nil), messageID: "\(i)"))
            }
            _ = try await store.upsert(items)
            store.close()
        }
        // Keep page 1 (header and schema), overwrite the rest with garbage.
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        let size = try handle.seekToEnd()
        #expect(size > 8192)
        try handle.seek(toOffset: 4096)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: Int(size) - 4096))
        try handle.close()

        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let outcomes = await stage.handle(batch: [try Fixture.envelope(Fixture.parsed(url: "https://example.vn/new", canonical: nil))])

        let error = try #require(outcomes.first?.failure)
        #expect(error.code == .dataLoss)
        #expect(error.message.contains(path))
    }

    @Test func lockedDatabaseFailsRetryablyThenRecovers() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path, busyTimeout: .milliseconds(200)))
        try await stage.open()

        // Another connection takes the write lock and holds it.
        var lockHolder = Configuration()
        lockHolder.allowsUnsafeTransactions = true
        let other = try DatabaseQueue(path: path, configuration: lockHolder)
        try await other.writeWithoutTransaction { db in try db.execute(sql: "BEGIN EXCLUSIVE") }

        let clock = ContinuousClock()
        let started = clock.now
        let locked = await stage.handle(batch: [try Fixture.envelope(Fixture.parsed())])
        let waited = clock.now - started

        let error = try #require(locked.first?.failure)
        #expect(error.code == .unavailable)
        #expect(error.code.isRetryable)
        #expect(error.message.contains(path))
        #expect(error.message.contains("locked"))
        #expect(waited >= .milliseconds(150), "the busy timeout was waited: \(waited)")

        try await other.writeWithoutTransaction { db in try db.execute(sql: "ROLLBACK") }
        try other.close()
        let retried = try #require(await stage.handle(batch: [try Fixture.envelope(Fixture.parsed())]).first).stored()
        #expect(retried.action == .inserted)
    }

    @Test func missingDirectoryIsAFailedPrecondition() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("no/such/dir/news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))

        let outcomes = await stage.handle(batch: [try Fixture.envelope(Fixture.parsed())])

        let error = try #require(outcomes.first?.failure)
        #expect(error.code == .failedPrecondition)
        #expect(error.message.contains(path))
    }

    @Test func readOnlyOpenOfAMissingFileIsNotFound() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("absent.sqlite")
        do {
            _ = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path, mode: .readOnly))
            Issue.record("opening a missing store read-only should fail")
        } catch {
            #expect(error.code == .notFound)
            #expect(error.message.contains(path))
        }
        #expect(!FileManager.default.fileExists(atPath: path), "a read-only open creates nothing")
    }

    @Test func readOnlyOpenOfAnotherDatabaseSaysItIsNotAStore() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("other.sqlite")
        let other = try DatabaseQueue(path: path)
        try other.write { db in try db.execute(sql: "CREATE TABLE t (x)") }
        try other.close()

        do {
            _ = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path, mode: .readOnly))
            Issue.record("a database without the store's tables is not a store")
        } catch {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("not a Runnel store"))
        }
    }
}
