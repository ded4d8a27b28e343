import Foundation
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

/// What only the PostgreSQL store has: a server that can be away, a URL with a password, and the
/// `tsvector` index written from folded words.
@Suite struct PostgresStoreTests {
    @Test func unreachableServerFailsEveryInputWithUnavailableNamingTheURLWithoutPassword() async throws {
        // Nothing listens on port 1 of the loopback: the connection is refused at once.
        let stage = StoreStage(postgres: try PostgresStoreConfiguration(url: "postgres://runnel:s3cret@127.0.0.1:1/news"))
        let batch = [try Fixture.envelope(Fixture.parsed()), try Fixture.errorEnvelope()]

        let outcomes = await stage.handle(batch: batch)

        #expect(outcomes.count == 2)
        for outcome in outcomes {
            let error = try #require(outcome.failure)
            #expect(error.code == .unavailable, "\(error)")
            #expect(error.code.isRetryable, "the runner retries it: the message is not acked, so not lost")
            #expect(error.message.contains("postgres://runnel@127.0.0.1:1/news"), "\(error.message)")
            #expect(!error.message.contains("s3cret"))
        }
        await stage.close()
    }

    @Test func missingDatabaseIsNotFoundAndSaysHowToCreateIt() async throws {
        let server = try TestPostgres.serverURL()
        var components = try #require(URLComponents(string: server))
        components.path = "/runnel_missing_\(UUID().uuidString.prefix(8).lowercased())"
        components.password = "s3cret"

        do {
            _ = try await PostgresArticleStore.open(PostgresStoreConfiguration(url: components.string ?? server))
            Issue.record("a missing database should not open")
        } catch {
            #expect(error.code == .notFound, "\(error)")
            #expect(error.message.contains("createdb"))
            #expect(!error.message.contains("s3cret"))
        }
    }

    @Test(arguments: ["ftp://host/db", "postgres://host/a/b", "postgres://host/db?sslmode=sometimes", "postgres://host/db?pool=3"])
    func badURLsAreInvalidArguments(_ url: String) {
        #expect(throws: RunnelError.self) { try PostgresStoreConfiguration(url: url) }
    }

    @Test func urlDefaultsAndDisplay() throws {
        let configuration = try PostgresStoreConfiguration(url: "postgresql://news:p%40ss@db1.example:6543/articles?sslmode=disable")
        #expect(configuration.host == "db1.example")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "news")
        #expect(configuration.password == "p@ss")
        #expect(configuration.database == "articles")
        #expect(configuration.tls == .disable)
        #expect(configuration.displayURL == "postgres://news@db1.example:6543/articles")
        #expect(PostgresStoreConfiguration.isURL("POSTGRES://x"))
        #expect(!PostgresStoreConfiguration.isURL("news.sqlite"))
        #expect(PostgresStoreConfiguration.redacting("postgres://u:pw@h/d") == "postgres://u:***@h/d")
    }

    @Test func vectorAndQueryAreWrittenFromFoldedWords() throws {
        #expect(PostgresTextSearch.vector(title: "Phái bộ", text: "Đà Nẵng") == "'bo':2A 'da':3 'nang':4 'phai':1A")
        #expect(try SearchQuery("\"Phái bộ\" Matx*").tsQuery == "'phai' <-> 'bo' & 'matx':*")
        #expect(try SearchQuery("da nang").tsPhraseQuery == "'da' <-> 'nang'")
        #expect(try SearchQuery("it's").tsQuery == "'it' & 's'")
    }

    @Test func indexWrittenWithAnotherFoldingIsRebuiltOnOpen() async throws {
        let database = try TestDatabase(.postgres)
        let store = try await database.store()
        _ = try await store.upsert([.parsed(Fixture.parsed(), messageID: "1")])
        await database.close()
        // Simulate an index written by an older folding: empty vectors, version 0.
        try TestPostgres.psql(database.db, "UPDATE articles SET search = ''::tsvector; UPDATE runnel_meta SET value = '0' WHERE key = 'folding'")
        let stale = try await database.store(.readOnly)
        #expect(try await stale.search(SearchQuery("Matxcova"), limit: 5).isEmpty)

        let reopened = try await database.store()

        #expect(try await reopened.search(SearchQuery("Matxcova"), limit: 5).count == 1)
        #expect(try TestPostgres.psql(database.db, "SELECT value FROM runnel_meta WHERE key = 'folding'") == String(TextFolding.version))
        await database.close()
    }
}
