import Foundation
import GRDB
import RunnelProtocol
@testable import StoreStage
import Testing

/// A version's title and text are kept once: in `articles` while it is current, in its
/// `versions` row once a newer version replaces it (issue 14: the store wrote every article's
/// text twice). `version_texts` gives each version's.
@Suite struct VersionTextTests {
    /// The fixture's article with `extra` appended to its text, as a new version of it.
    private func version(_ extra: String) -> ArticleParsed {
        var article = Fixture.parsed()
        article.text += extra.isEmpty ? "" : "\n\n" + extra
        return article
    }

    @Test(arguments: Backend.allCases)
    func everyVersionKeepsItsOwnTextOnce(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        // Versions 1–3 in batches of their own, 4 and 5 in one batch (the PostgreSQL store plans
        // a batch as a whole), then version 2 again: unchanged.
        for batch in [["v1"], ["v2"], ["v3"], ["v4", "v5"], ["v2"]] {
            let envelopes = try batch.map { try Fixture.envelope(version($0 == "v1" ? "" : "Bản \($0).")) }
            _ = await stage.handle(batch: envelopes)
        }
        await stage.close()

        #expect(try database.count("articles", where: "version = 5 AND text LIKE '%Bản v5.'") == 1)
        #expect(try database.count("versions") == 5)
        #expect(try database.count("versions", where: "text IS NULL AND title IS NULL") == 1, "only the current version's row is empty")
        #expect(try database.count("versions", where: "version = 5 AND text IS NULL") == 1)
        #expect(try database.count("version_texts") == 5)
        #expect(try database.count("version_texts", where: "version = 1 AND text NOT LIKE '%Bản v%'") == 1)
        for n in 2...5 {
            #expect(try database.count("version_texts", where: "version = \(n) AND text LIKE '%Bản v\(n).'") == 1, "version \(n)")
        }
        #expect(try database.count("version_texts", where: "title IS NOT NULL AND title <> ''") == 5)
    }

    @Test func aSchemaOneSQLiteStoreIsMigrated() async throws {
        let database = try TestDatabase(.sqlite)
        // A store as the first schema wrote it: every version's text in `versions`.
        let queue = try DatabaseQueue(path: database.db)
        try SQLiteArticleStore.migrator.migrate(queue, upTo: "v1: articles, versions, entities, keywords, links, failures, fts")
        try await queue.write { db in
            try db.execute(sql: """
                INSERT INTO articles (id, canonical_url, url, title, text, content_hash, fingerprint, first_seen, last_seen, version)
                VALUES (1, 'https://vov.vn/a', 'https://vov.vn/a', 'Tiêu đề 2', 'Bài bản hai', 'h2', 'f2', 't', 't', 2);
                INSERT INTO versions VALUES (1, 1, 'h1', 'f1', 'Tiêu đề 1', 'Bài bản một', 't');
                INSERT INTO versions VALUES (1, 2, 'h2', 'f2', 'Tiêu đề 2', 'Bài bản hai', 't');
                """)
        }
        try queue.close()

        let store = try await database.store()
        let stored = try await store.upsert([.parsed(Fixture.parsed(), messageID: "m")])
        #expect(stored.count == 1)

        #expect(try database.count("versions", where: "article_id = 1 AND version = 1 AND text = 'Bài bản một'") == 1)
        #expect(try database.count("versions", where: "article_id = 1 AND version = 2 AND text IS NULL AND title IS NULL") == 1)
        #expect(try database.count("version_texts", where: "article_id = 1 AND version = 2 AND text = 'Bài bản hai' AND title = 'Tiêu đề 2'") == 1)
        #expect(try database.count("versions", where: "text IS NULL") == 2, "the migrated current version and the new article's")
    }

    @Test func aSchemaOnePostgreSQLStoreIsMigrated() async throws {
        let database = try TestDatabase(.postgres)
        let stage = try database.stage()
        for text in ["", "Bản v2."] { _ = await stage.handle(batch: [try Fixture.envelope(version(text))]) }
        await stage.close()
        // Back to the first schema: the current version's text in `versions` too, NOT NULL.
        try TestPostgres.psql(
            database.db,
            """
            UPDATE versions v SET title = a.title, text = a.text FROM articles a WHERE a.id = v.article_id AND v.version = a.version;
            ALTER TABLE versions ALTER COLUMN title SET NOT NULL; ALTER TABLE versions ALTER COLUMN text SET NOT NULL;
            DROP VIEW version_texts; UPDATE runnel_meta SET value = '1' WHERE key = 'schema'
            """)
        #expect(try database.count("versions", where: "text IS NULL") == 0)

        _ = try await database.store()
        await database.close()

        #expect(try database.count("versions", where: "version = 2 AND text IS NULL") == 1)
        #expect(try database.count("versions", where: "version = 1 AND text NOT LIKE '%Bản v%'") == 1)
        #expect(try database.count("version_texts", where: "version = 2 AND text LIKE '%Bản v2.'") == 1)
        #expect(try TestPostgres.psql(database.db, "SELECT value FROM runnel_meta WHERE key = 'schema'") == "3")
    }

    /// A store a newer runnel wrote may keep things as this one does not (this one before
    /// schema 2 dropped a superseded version's text): writing is refused, reading is not.
    @Test(arguments: Backend.allCases)
    func aStoreFromANewerRunnelIsNotWritten(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        _ = try await database.store()
        await database.close()
        switch backend {
        case .sqlite:
            let queue = try DatabaseQueue(path: database.db)
            try await queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v9: from a newer runnel')") }
            try queue.close()
        case .postgres:
            try TestPostgres.psql(database.db, "UPDATE runnel_meta SET value = '4' WHERE key = 'schema'")
        }

        do {
            _ = try await database.store()
            Issue.record("a store of a newer schema was opened for writing")
        } catch let error as RunnelError {
            #expect(error.code == .failedPrecondition)
            #expect(error.message.contains("newer runnel"), "\(error.message)")
        }
        let reader = try await database.store(.readOnly)
        #expect(try await reader.search(SearchQuery("nato"), limit: 5).isEmpty)
        await database.close()
    }
}
