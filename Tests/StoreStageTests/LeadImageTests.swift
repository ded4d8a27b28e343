import Foundation
import GRDB
import RunnelProtocol
@testable import StoreStage
import Testing

/// `article.parsed`'s `lead_image` is kept (SQLite migration v3, PostgreSQL schema 3): stored,
/// replaced with a new version, given back by `export` and `search`; stores written before it
/// still open, and are searched and exported without it.
@Suite struct LeadImageTests {
    private func article(text: String = Fixture.missionText, leadImage: String?) -> ArticleParsed {
        var article = Fixture.parsed(text: text)
        article.leadImage = leadImage
        return article
    }

    private func exported(_ store: any ArticleStore) async throws -> [ArticleParsed] {
        var articles: [ArticleParsed] = []
        for try await stored in store.export(pageSize: 10) { articles.append(stored.article) }
        return articles
    }

    @Test(arguments: Backend.allCases)
    func keptReplacedAndExported(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await database.store()
        _ = try await store.upsert([.parsed(article(leadImage: "https://example.vn/img/nato.jpg"), messageID: "1")])
        #expect(try database.count("articles", where: "lead_image = 'https://example.vn/img/nato.jpg'") == 1)
        #expect(try await exported(store).map(\.leadImage) == ["https://example.vn/img/nato.jpg"])
        #expect(try await store.search(SearchQuery("NATO"), limit: 5).map(\.leadImage) == ["https://example.vn/img/nato.jpg"])

        // A new version brings its own picture; one without a picture leaves none.
        _ = try await store.upsert([
            .parsed(article(text: Fixture.missionText + "\n\nBản cập nhật.", leadImage: "https://example.vn/img/new.jpg"), messageID: "2")
        ])
        #expect(try await exported(store).map(\.leadImage) == ["https://example.vn/img/new.jpg"])
        _ = try await store.upsert([.parsed(article(text: Fixture.missionText + "\n\nBản ba.", leadImage: nil), messageID: "3")])
        #expect(try await exported(store).map(\.leadImage) == [nil])
        #expect(try await store.search(SearchQuery("NATO"), limit: 5).map(\.leadImage) == [nil])
        await database.close()
    }

    @Test func aSchemaTwoSQLiteStoreIsReadAndThenMigrated() async throws {
        let database = try TestDatabase(.sqlite)
        let queue = try DatabaseQueue(path: database.db)
        try SQLiteArticleStore.migrator.migrate(queue, upTo: "v2: a version keeps its title and text once it is superseded")
        try queue.close()

        // Read as it is: no column, no picture, no error.
        let reader = try await database.store(.readOnly)
        #expect(try await exported(reader).isEmpty)
        #expect(try await reader.search(SearchQuery("NATO"), limit: 5).isEmpty)

        let store = try await database.store()
        _ = try await store.upsert([.parsed(article(leadImage: "https://example.vn/img/nato.jpg"), messageID: "1")])
        #expect(try await exported(store).map(\.leadImage) == ["https://example.vn/img/nato.jpg"])
    }

    @Test func aSchemaTwoPostgreSQLStoreIsReadAndThenMigrated() async throws {
        let database = try TestDatabase(.postgres)
        _ = try await database.store()
        await database.close()
        // Back to schema 2, with an article stored by it.
        try TestPostgres.psql(database.db, "ALTER TABLE articles DROP COLUMN lead_image; UPDATE runnel_meta SET value = '2' WHERE key = 'schema'")
        let reader = try await database.store(.readOnly)
        #expect(try await exported(reader).isEmpty)
        try TestPostgres.psql(
            database.db,
            """
            INSERT INTO articles (canonical_url, url, title, kind, text, content_hash, fingerprint, first_seen, last_seen, version, search)
            VALUES ('https://vov.vn/a', 'https://vov.vn/a', 'Tiêu đề', 'article', 'Bài', 'h', 'f', 't', 't', 1,
                    to_tsvector('simple', 'bai'))
            """)
        #expect(try await exported(reader).map(\.leadImage) == [nil], "a store of schema 2 is read without the column")
        #expect(try await reader.search(SearchQuery("bài"), limit: 5).map(\.url) == ["https://vov.vn/a"])

        let store = try await database.store()
        _ = try await store.upsert([.parsed(article(leadImage: "https://example.vn/img/nato.jpg"), messageID: "1")])
        #expect(try TestPostgres.psql(database.db, "SELECT value FROM runnel_meta WHERE key = 'schema'") == "3")
        #expect(try database.count("articles", where: "lead_image = 'https://example.vn/img/nato.jpg'") == 1)
        await database.close()
    }
}
