import RunnelProtocol
import Testing

@testable import StoreStage

/// The PostgreSQL store's batch, worked out without a database: what each article does, and the
/// net writes of a batch where one key comes more than once.
@Suite struct PostgresUpsertPlanTests {
    static let key = "https://example.vn/nato-nga"

    static func prepared(_ index: Int, _ article: ArticleParsed, enriched: Bool = false, hash: String? = nil) -> PreparedArticle {
        let enrichment = enriched ? Fixture.enriched(article).enrichment : nil
        return PreparedArticle(index: index, article: article, enrichment: enrichment, contentHash: hash)
    }

    static var changed: ArticleParsed {
        var article = Fixture.parsed()
        article.text += "\n\nCập nhật."
        return article
    }

    @Test func newArticleIsInsertedWithItsVersionAndChildrenAndNothingRewritten() throws {
        let plan = try PostgresUpsertPlan([Self.prepared(0, Fixture.parsed(), enriched: true)], inserted: [Self.key: 7], existing: [:], earlier: [:])

        #expect(plan.results.map(\.action) == [.inserted])
        #expect(plan.results.map(\.articleID) == [7])
        #expect(plan.rewrites.isEmpty && plan.fills.isEmpty && plan.touched.isEmpty)
        #expect(plan.versions.map(\.version) == [1])
        #expect(plan.links.map(\.id) == [7])
        #expect(plan.enrichments.map(\.id) == [7])
        #expect(plan.clearedLinks.isEmpty && plan.clearedEnrichment.isEmpty)
    }

    @Test func redeliveryOfAStoredArticleOnlyTouchesIt() throws {
        let article = Self.prepared(0, Fixture.parsed(), enriched: true)
        let current = PostgresUpsertPlan.Current(id: 3, version: 2, fingerprint: article.fingerprint, languageIsNull: false)

        let plan = try PostgresUpsertPlan([article, article], inserted: [:], existing: [Self.key: current], earlier: [:])

        #expect(plan.results.map(\.action) == [.unchanged, .unchanged])
        #expect(plan.results.map(\.version) == [2, 2])
        #expect(plan.touched == [3])
        #expect(plan.rewrites.isEmpty && plan.versions.isEmpty && plan.links.isEmpty && plan.enrichments.isEmpty)
    }

    @Test func insertedThenChangedThenOldAgainInOneBatch() throws {
        let original = Self.prepared(0, Fixture.parsed())
        let update = Self.prepared(1, Self.changed, enriched: true)
        let old = Self.prepared(2, Fixture.parsed())

        let plan = try PostgresUpsertPlan([original, update, old], inserted: [Self.key: 7], existing: [:], earlier: [:])

        #expect(plan.results.map(\.action) == [.inserted, .updated, .unchanged])
        #expect(plan.results.map(\.version) == [1, 2, 1])
        #expect(plan.versions.map(\.version) == [1, 2])
        #expect(plan.rewrites.map(\.content.index) == [1], "the row ends with the update's content")
        #expect(plan.rewrites.first?.version == 2)
        #expect(plan.links.count == 1 && plan.enrichments.count == 1, "children written once, the update's")
        #expect(plan.clearedLinks.isEmpty, "nothing to clear for a row inserted in this batch")
    }

    @Test func parsedThenEnrichedFillsTheEnrichmentWithoutAVersion() throws {
        let parsed = Self.prepared(0, Fixture.parsed())
        let enriched = Self.prepared(1, Fixture.parsed(), enriched: true, hash: String(repeating: "ab", count: 32))
        let current = PostgresUpsertPlan.Current(id: 3, version: 1, fingerprint: parsed.fingerprint, languageIsNull: true)

        let plan = try PostgresUpsertPlan([enriched, enriched], inserted: [:], existing: [Self.key: current], earlier: [:])

        #expect(plan.results.map(\.action) == [.unchanged, .unchanged])
        #expect(plan.fills.map(\.id) == [3])
        #expect(plan.fills.first?.fill.contentHash == String(repeating: "ab", count: 32))
        #expect(plan.clearedEnrichment == [3] && plan.enrichments.map(\.id) == [3])
        #expect(plan.clearedLinks.isEmpty && plan.versions.isEmpty && plan.rewrites.isEmpty)

        let inBatch = try PostgresUpsertPlan([parsed, enriched], inserted: [Self.key: 7], existing: [:], earlier: [:])
        #expect(inBatch.rewrites.count == 1 && inBatch.rewrites.first?.fill != nil, "the inserted row gets the enrichment")
        #expect(inBatch.versions.count == 1)
    }

    @Test func anEarlierVersionRedeliveredIsUnchangedAtThatVersion() throws {
        let old = Self.prepared(0, Fixture.parsed())
        let current = PostgresUpsertPlan.Current(id: 3, version: 4, fingerprint: "other", languageIsNull: true)

        let plan = try PostgresUpsertPlan([old], inserted: [:], existing: [Self.key: current], earlier: [3: [old.fingerprint: 2]])

        #expect(plan.results.map(\.action) == [.unchanged])
        #expect(plan.results.map(\.version) == [2])
        #expect(plan.touched == [3])
    }

    @Test func aNewVersionOfAStoredArticleReplacesItsChildren() throws {
        let update = Self.prepared(0, Self.changed)
        let current = PostgresUpsertPlan.Current(id: 3, version: 1, fingerprint: "old", languageIsNull: false)

        let plan = try PostgresUpsertPlan([update], inserted: [:], existing: [Self.key: current], earlier: [:])

        #expect(plan.results.map(\.action) == [.updated])
        #expect(plan.rewrites.map(\.id) == [3])
        #expect(plan.clearedLinks == [3] && plan.clearedEnrichment == [3])
        #expect(plan.enrichments.isEmpty, "a parsed version has no entities or keywords")
    }

    @Test func aKeyNeitherInsertedNorFoundIsUnavailable() {
        #expect(throws: RunnelError.self) {
            try PostgresUpsertPlan([Self.prepared(0, Fixture.parsed())], inserted: [:], existing: [:], earlier: [:])
        }
    }
}

extension ArticleEnriched {
    /// What the store keeps of the enrichment.
    var enrichment: StoredArticle.Enrichment {
        StoredArticle.Enrichment(
            language: language, entities: entities, quotes: quotes, keywords: keywords, summary: summary,
            wordCount: wordCount, readingTimeS: readingTimeS, simhash: simhash)
    }
}

extension PostgresUpsertPlanTests {
    @Test func aStoredArticleChangedThenChangedBackInOneBatchReturnsToItsCurrentVersion() throws {
        let stored = Self.prepared(0, Fixture.parsed())
        let update = Self.prepared(1, Self.changed)
        let back = Self.prepared(2, Fixture.parsed())
        let current = PostgresUpsertPlan.Current(id: 3, version: 1, fingerprint: stored.fingerprint, languageIsNull: true)

        let plan = try PostgresUpsertPlan([update, back], inserted: [:], existing: [Self.key: current], earlier: [:])

        #expect(plan.results.map(\.action) == [.updated, .unchanged])
        #expect(plan.results.map(\.version) == [2, 1])
        #expect(plan.versions.map(\.version) == [2])
    }
}
