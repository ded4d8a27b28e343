import RunnelProtocol
import RunnelStage
import StoreStage
import Synchronization
import Testing

/// A store that refuses any batch holding an article whose URL contains "poison", and counts
/// the batches it is given.
final class PoisonStore: ArticleStore {
    let batches = Mutex<[Int]>([])

    func upsert(_ batch: [StoreItem]) async throws(RunnelError) -> [StoreResult] {
        batches.withLock { $0.append(batch.count) }
        if batch.contains(where: { $0.article?.url.contains("poison") == true }) {
            throw RunnelError(.invalidArgument, "refused a poisoned article")
        }
        return batch.enumerated().map { offset, item in
            .stored(ArticleStored(url: item.article?.url ?? "", canonicalURL: item.article?.url ?? "", articleID: Int64(offset), action: .inserted, version: 1))
        }
    }

    func search(_ query: SearchQuery, limit: Int, duplicates: NearDuplicates) async throws(RunnelError) -> [SearchHit] { [] }
    func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle] { [] }
}

/// A store whose database is always busy.
final class BusyStore: ArticleStore {
    let batches = Mutex(0)
    func upsert(_ batch: [StoreItem]) async throws(RunnelError) -> [StoreResult] {
        batches.withLock { $0 += 1 }
        throw RunnelError(.unavailable, "busy")
    }
    func search(_ query: SearchQuery, limit: Int, duplicates: NearDuplicates) async throws(RunnelError) -> [SearchHit] { [] }
    func articles(after afterID: Int64, limit: Int) async throws(RunnelError) -> [StoredArticle] { [] }
}

@Suite struct StoreStageIsolationTests {
    @Test func onePoisonedArticleFailsAloneAndTheOthersAreStored() async throws {
        let store = PoisonStore()
        let stage = StoreStage(store: store)
        let batch = [
            try Fixture.envelope(Fixture.parsed(url: "https://example.vn/1", canonical: nil)),
            try Fixture.envelope(Fixture.parsed(url: "https://example.vn/poison", canonical: nil)),
            try Fixture.envelope(Fixture.parsed(url: "https://example.vn/3", canonical: nil)),
        ]

        let outcomes = await stage.handle(batch: batch)

        #expect(try outcomes[0].stored().url == "https://example.vn/1")
        #expect(outcomes[1].failure?.code == .invalidArgument)
        #expect(try outcomes[2].stored().url == "https://example.vn/3")
        #expect(store.batches.withLock { $0 } == [3, 1, 1, 1])
    }

    @Test func aDatabaseFailureFailsTheWholeBatchWithoutRetryingItemByItem() async throws {
        let store = BusyStore()
        let stage = StoreStage(store: store)
        let batch = [try Fixture.envelope(Fixture.parsed()), try Fixture.errorEnvelope()]

        let outcomes = await stage.handle(batch: batch)

        #expect(outcomes.map { $0.failure?.code } == [.unavailable, .unavailable])
        #expect(store.batches.withLock { $0 } == 1)
    }
}
