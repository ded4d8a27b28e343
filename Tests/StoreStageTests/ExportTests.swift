import Foundation
import RunnelProtocol
import StoreStage
import Testing

@Suite struct ExportTests {
    @Test func exportYieldsEveryArticleShapedAsItsMessageType() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let enriched = Fixture.enriched(Fixture.parsed(), contentHash: String(repeating: "cd", count: 32))
        let parsed = Fixture.parsed(url: "https://example.vn/only-parsed", canonical: nil)
        var items: [StoreItem] = [.enriched(enriched, messageID: "1"), .parsed(parsed, messageID: "2")]
        for i in 0..<5 {
            items.append(.parsed(Fixture.parsed(url: "https://example.vn/\(i)", canonical: nil), messageID: "p\(i)"))
        }
        _ = try await store.upsert(items)

        var exported: [StoredArticle] = []
        for try await article in store.export(pageSize: 2) { exported.append(article) }

        #expect(exported.count == 7)
        #expect(exported.map(\.articleID) == exported.map(\.articleID).sorted())
        let first = try #require(exported.first)
        #expect(first.messageType == MessageType.articleEnriched)
        let body = try RawJSON(encoding: first)
        let decoded = try body.decode(ArticleEnriched.self)
        #expect(decoded.article.title == enriched.article.title)
        #expect(decoded.article.text == enriched.article.text)
        #expect(decoded.article.canonicalURL == enriched.article.canonicalURL)
        #expect(decoded.article.related == enriched.article.related)
        #expect(decoded.article.outlinks == enriched.article.outlinks)
        #expect(decoded.entities == enriched.entities)
        #expect(decoded.quotes == enriched.quotes)
        #expect(decoded.keywords == enriched.keywords)
        #expect(decoded.contentHash == enriched.contentHash)
        #expect(body.description.contains(#""stored":{"#))

        let second = exported[1]
        #expect(second.messageType == MessageType.articleParsed)
        #expect(second.enrichment == nil)
        #expect(try RawJSON(encoding: second).decode(ArticleParsed.self).url == "https://example.vn/only-parsed")
        #expect(second.contentHash == ContentFingerprint.of(title: parsed.title, text: parsed.text))
    }
}

@Suite struct ExportSnapshotTests {
    @Test func anExportIsOneSnapshotEvenWhileTheStoreWrites() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let articles = (0..<5).map { Fixture.parsed(url: "https://example.vn/\($0)", canonical: nil, title: "Tin \($0)") }
        _ = try await store.upsert(articles.enumerated().map { .parsed($1, messageID: "\($0)") })

        var exported: [StoredArticle] = []
        for try await article in store.export(pageSize: 2) {
            exported.append(article)
            if exported.count == 1 {
                var changed = articles[4]
                changed.title = "Tin 4, đã cập nhật"
                _ = try await store.upsert([
                    .parsed(changed, messageID: "u"),
                    .parsed(Fixture.parsed(url: "https://example.vn/new", canonical: nil), messageID: "n"),
                ])
            }
        }

        #expect(exported.count == 5, "the article added during the export is not in it")
        #expect(exported.last?.article.title == "Tin 4")
        #expect(exported.last?.version == 1)
        #expect(try count("articles", in: dir.path("news.sqlite")) == 6)
    }
}
