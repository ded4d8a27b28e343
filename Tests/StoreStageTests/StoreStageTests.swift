import Foundation
import GRDB
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

@Suite struct StoreStageTests {
    @Test func serviceAcceptsArticlesAndErrorsAndEmitsStored() {
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: "/nonexistent/never-opened.sqlite"))
        #expect(stage.service.name == "store")
        #expect(Set(stage.service.accepts) == ["article.enriched", "article.parsed", "error"])
        #expect(stage.service.emits == ["article.stored"])
    }

    @Test func redeliveryIsStoredOnceAndReportedUnchanged() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let message = try Fixture.envelope(Fixture.enriched(Fixture.parsed()))

        let first = try #require(await stage.handle(batch: [message]).first).stored()
        let second = try #require(await stage.handle(batch: [message]).first).stored()

        #expect(first.action == .inserted)
        #expect(first.version == 1)
        #expect(first.canonicalURL == "https://example.vn/nato-nga")
        #expect(second.action == .unchanged)
        #expect(second.articleID == first.articleID)
        #expect(second.version == 1)
        #expect(try count("articles", in: path) == 1)
        #expect(try count("versions", in: path) == 1)
        #expect(try count("entities", in: path) == 1)
        #expect(try count("links", in: path) == 3)
    }

    @Test func duplicateInOneBatchIsStoredOnce() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let message = try Fixture.envelope(Fixture.parsed())

        let outcomes = await stage.handle(batch: [message, message])

        #expect(outcomes.count == 2)
        #expect(try outcomes[0].stored().action == .inserted)
        #expect(try outcomes[1].stored().action == .unchanged)
        #expect(try count("articles", in: path) == 1)
    }

    @Test func updatedPageKeepsANewVersionAndReindexes() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let original = Fixture.parsed()
        var changed = original
        changed.text = original.text + "\n\nCập nhật: Bộ trưởng Lavrov phát biểu tại Hà Nội."

        let v1 = try #require(await stage.handle(batch: [try Fixture.envelope(original)]).first).stored()
        let v2 = try #require(await stage.handle(batch: [try Fixture.envelope(changed)]).first).stored()

        #expect(v1.action == .inserted)
        #expect(v2.action == .updated)
        #expect(v2.version == 2)
        #expect(v2.articleID == v1.articleID)
        #expect(try count("articles", in: path) == 1)
        #expect(try count("versions", in: path) == 2)
        #expect(try count("articles", in: path, where: "version = 2 AND text LIKE '%Lavrov%'") == 1)
        #expect(try count("links", in: path) == 3, "children are replaced, not added to")

        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path, mode: .readOnly))
        #expect(try await store.search(SearchQuery("lavrov ha noi"), limit: 5).map(\.articleID) == [v1.articleID])
        // The old version's words that are still in the new text are found once, not twice.
        #expect(try await store.search(SearchQuery("Matxcova"), limit: 5).count == 1)
    }

    @Test func oldVersionRedeliveredAfterAnUpdateIsUnchanged() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let original = try Fixture.envelope(Fixture.parsed())
        var changedArticle = Fixture.parsed()
        changedArticle.title += " (cập nhật)"
        let changed = try Fixture.envelope(changedArticle)

        _ = await stage.handle(batch: [original, changed])
        let again = try #require(await stage.handle(batch: [original]).first).stored()

        #expect(again.action == .unchanged)
        #expect(again.version == 1)
        #expect(try count("versions", in: path) == 2)
        #expect(try count("articles", in: path, where: "version = 2 AND title LIKE '%cập nhật%'") == 1)
    }

    @Test func whitespaceOnlyChangeIsNotANewVersion() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        var rewrapped = Fixture.parsed()
        rewrapped.text = rewrapped.text.replacingOccurrences(of: " ", with: "  \n")

        _ = await stage.handle(batch: [try Fixture.envelope(Fixture.parsed())])
        let second = try #require(await stage.handle(batch: [try Fixture.envelope(rewrapped)]).first).stored()

        #expect(second.action == .unchanged)
    }

    @Test func articleWithoutCanonicalURLIsKeyedByItsURL() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let article = Fixture.parsed(url: "https://example.vn/x?id=1", canonical: nil)

        let stored = try #require(await stage.handle(batch: [try Fixture.envelope(article)]).first).stored()

        #expect(stored.canonicalURL == "https://example.vn/x?id=1")
        #expect(try count("articles", in: path, where: "canonical_url = 'https://example.vn/x?id=1'") == 1)
    }

    @Test func parsedArticleIsStoredWithoutEnrichmentAndLaterEnriched() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let parsed = Fixture.parsed()
        let fingerprint = ContentFingerprint.of(title: parsed.title, text: parsed.text)

        let first = try #require(await stage.handle(batch: [try Fixture.envelope(parsed)]).first).stored()
        #expect(first.action == .inserted)
        #expect(try count("articles", in: path, where: "language IS NULL AND simhash IS NULL AND content_hash = '\(fingerprint)'") == 1)

        let sha = String(repeating: "ab", count: 32)
        let enriched = Fixture.enriched(parsed, contentHash: sha)
        let second = try #require(await stage.handle(batch: [try Fixture.envelope(enriched)]).first).stored()

        #expect(second.action == .unchanged, "same content: enrichment is filled in, no new version")
        #expect(try count("articles", in: path, where: "language = 'vi' AND content_hash = '\(sha)'") == 1)
        #expect(try count("keywords", in: path) == 3)
        #expect(try count("versions", in: path) == 1)
    }

    @Test func errorRecordsGoToFailuresOnceAndEmitNothing() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let error = try Fixture.errorEnvelope()

        let outcomes = await stage.handle(batch: [error, try Fixture.envelope(Fixture.parsed()), error])

        guard case let .emit(emissions) = outcomes[0] else {
            Issue.record("an error record should be stored, got \(outcomes[0])")
            return
        }
        #expect(emissions.isEmpty)
        #expect(try outcomes[1].stored().action == .inserted)
        #expect(try count("failures", in: path) == 1)
        #expect(
            try count(
                "failures", in: path,
                where: "status = 'NOT_FOUND' AND code = 5 AND stage = 'fetch' AND url = 'https://example.vn/missing' AND original LIKE '%url.requested%'"
            ) == 1)
    }

    @Test func undecodableInputFailsAloneWithInvalidArgument() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: path))
        let bad = Envelope(type: MessageType.articleParsed, body: try RawJSON(#"{"url":"https://x"}"#))
        let wrongType = Envelope(type: MessageType.pageFetched, body: .emptyObject)

        let outcomes = await stage.handle(batch: [bad, try Fixture.envelope(Fixture.parsed()), wrongType])

        #expect(outcomes[0].failure?.code == .invalidArgument)
        #expect(outcomes[0].failure?.message.contains("body.title") == true)
        #expect(try outcomes[1].stored().action == .inserted)
        #expect(outcomes[2].failure?.code == .invalidArgument)
        #expect(try count("articles", in: path) == 1)
    }
}

@Suite struct ServiceDefinitionTests {
    @Test func protocolServiceFileMatchesTheStage() throws {
        var root = URL(fileURLWithPath: #filePath)
        while !FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path) {
            root.deleteLastPathComponent()
        }
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/services/store.json"))
        let file = try JSONDecoder().decode(ServiceDefinition.self, from: data)
        #expect(file == StoreStage.service)
    }
}
