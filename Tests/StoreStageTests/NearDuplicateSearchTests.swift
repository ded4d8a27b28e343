import Foundation
import RunnelProtocol
import StoreStage
import Testing

/// Search folds copies of one article (SimHashes within 3 bits) into one hit, in both stores.
@Suite struct NearDuplicateSearchTests {
    /// The NATO article at its https URL, the same text saved as a file (2 bits away), an edited
    /// copy 4 bits away (kept apart), a parsed-only copy (no SimHash: kept apart) and an
    /// unrelated article that also says NATO.
    func storeCopies(_ database: TestDatabase) async throws -> any ArticleStore {
        let store = try await database.store()
        func enriched(
            _ url: String, title: String = Fixture.missionTitle, text: String = Fixture.missionText, simhash: String
        ) -> StoreItem {
            var article = Fixture.enriched(Fixture.parsed(url: url, canonical: nil, title: title, text: text))
            article.simhash = simhash
            return .enriched(article, messageID: url)
        }
        _ = try await store.upsert([
            enriched("https://example.vn/nato-nga", simhash: "0123456789abcdef"),
            enriched("file:///srv/pages/vi-nato-nga.html", simhash: "0123456789abcdec"),
            enriched(
                "https://example.vn/nato-nga-edited", text: Fixture.missionText + "\n\nBài viết được cập nhật.",
                simhash: "0123456789abcde0"),
            .parsed(Fixture.parsed(url: "https://mirror.example/nato-nga", canonical: nil), messageID: "parsed"),
            enriched(
                "https://example.com/en", title: "NATO regrets Russia's decision",
                text: "The alliance said it regrets the suspension of the Russian mission.", simhash: "fedcba9876543210"),
        ])
        return store
    }

    @Test func distanceCountsDifferingBits() {
        #expect(NearDuplicates.distance("0123456789abcdef", "0123456789abcdef") == 0)
        #expect(NearDuplicates.distance("0123456789abcdef", "0123456789abcdec") == 2)
        #expect(NearDuplicates.distance("0000000000000000", "ffffffffffffffff") == 64)
        #expect(NearDuplicates.distance(nil, "0123456789abcdef") == nil)
        #expect(NearDuplicates.distance("xyz", "0123456789abcdef") == nil)
        #expect(NearDuplicates.collapsed.maxDistance == 3)
    }

    @Test(arguments: Backend.allCases)
    func copiesWithin3BitsAreOneHitWithTheOthersURLs(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await storeCopies(database)

        let hits = try await store.search(SearchQuery("phai bo ngoai giao"), limit: 10)

        #expect(
            Set(hits.map(\.url)) == [
                "https://example.vn/nato-nga", "https://example.vn/nato-nga-edited", "https://mirror.example/nato-nga",
            ])
        #expect(hits.count == 3)
        #expect(hits.first?.url == "https://example.vn/nato-nga", "the best-ranked copy (same score, first stored) stands for it")
        let first = try #require(hits.first { $0.url == "https://example.vn/nato-nga" })
        #expect(first.alsoAt == ["file:///srv/pages/vi-nato-nga.html"])
        #expect(hits.filter { $0.url != "https://example.vn/nato-nga" }.allSatisfy { $0.alsoAt.isEmpty })
        #expect(first.snippet.render(open: "«", close: "»").contains("«phái» «bộ» «ngoại» «giao»"))
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func keptShowsEveryCopy(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await storeCopies(database)

        let hits = try await store.search(SearchQuery("phai bo ngoai giao"), limit: 10, duplicates: .kept)

        #expect(hits.count == 4)
        #expect(hits.contains { $0.url == "file:///srv/pages/vi-nato-nga.html" })
        #expect(hits.allSatisfy { $0.alsoAt.isEmpty })
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func theLimitCountsCollapsedHits(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await database.store()
        // Twelve copies of one article and two others: a limit of 3 still finds three articles.
        var items: [StoreItem] = (0..<12).map { index in
            var article = Fixture.enriched(Fixture.parsed(url: "https://copy\(index).example/nato", canonical: nil))
            article.simhash = index.isMultiple(of: 2) ? "0123456789abcdef" : "0123456789abcdee"
            return .enriched(article, messageID: "copy\(index)")
        }
        for (index, simhash) in ["fedcba9876543210", "00000000ffffffff"].enumerated() {
            var article = Fixture.enriched(
                Fixture.parsed(
                    url: "https://other\(index).example/nato", canonical: nil, title: "NATO \(index)",
                    text: "NATO ra thông báo số \(index) về phái bộ ngoại giao, một bài khác hẳn và dài hơn nhiều."))
            article.simhash = simhash
            items.append(.enriched(article, messageID: "other\(index)"))
        }
        _ = try await store.upsert(items)

        let hits = try await store.search(SearchQuery("phai bo ngoai giao"), limit: 3)

        #expect(hits.count == 3)
        #expect(hits.filter { $0.alsoAt.count == 11 }.count == 1)
        #expect(Set(hits.map(\.url)).count == 3)
        #expect(try await store.search(SearchQuery("phai bo ngoai giao"), limit: 1).count == 1)
        #expect(try await store.search(SearchQuery("phai bo ngoai giao"), limit: 3, duplicates: .kept).count == 3)
        await database.close()
    }

    @Test func hitsEncodeAlsoAt() throws {
        let hit = SearchHit(
            articleID: 1, title: "T", url: "https://a", publishedAt: nil, score: 0, snippet: Snippet(segments: []),
            simhash: "0123456789abcdef", alsoAt: ["file:///a.html"])
        let json = String(decoding: try JSONEncoder().encode(hit), as: UTF8.self)
        #expect(json.contains("\"also_at\":[\"file:\\/\\/\\/a.html\"]"))
        #expect(try JSONDecoder().decode(SearchHit.self, from: Data(json.utf8)) == hit)
    }
}
