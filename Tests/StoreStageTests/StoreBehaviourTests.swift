import Foundation
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

/// The store's behaviours, run against SQLite and PostgreSQL alike: the same inputs must give the
/// same actions, rows, search hits and exports.
@Suite struct StoreBehaviourTests {
    @Test(arguments: Backend.allCases)
    func redeliveryIsStoredOnceAndReportedUnchanged(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let message = try Fixture.envelope(Fixture.enriched(Fixture.parsed()))

        let first = try #require(await stage.handle(batch: [message]).first).stored()
        let second = try #require(await stage.handle(batch: [message]).first).stored()
        await stage.close()

        #expect(first.action == .inserted)
        #expect(first.version == 1)
        #expect(first.canonicalURL == "https://example.vn/nato-nga")
        #expect(second.action == .unchanged)
        #expect(second.articleID == first.articleID)
        #expect(try database.count("articles") == 1)
        #expect(try database.count("versions") == 1)
        #expect(try database.count("entities") == 1)
        #expect(try database.count("links") == 3)
    }

    @Test(arguments: Backend.allCases)
    func duplicateInOneBatchIsStoredOnce(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let message = try Fixture.envelope(Fixture.parsed())

        let outcomes = await stage.handle(batch: [message, message])
        await stage.close()

        #expect(try outcomes[0].stored().action == .inserted)
        #expect(try outcomes[1].stored().action == .unchanged)
        #expect(try database.count("articles") == 1)
    }

    @Test(arguments: Backend.allCases)
    func updatedPageKeepsANewVersionAndReindexes(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let original = Fixture.parsed()
        var changed = original
        changed.text = original.text + "\n\nCập nhật: Bộ trưởng Lavrov phát biểu tại Hà Nội."

        let v1 = try #require(await stage.handle(batch: [try Fixture.envelope(original)]).first).stored()
        let v2 = try #require(await stage.handle(batch: [try Fixture.envelope(changed)]).first).stored()
        await stage.close()

        #expect(v1.action == .inserted)
        #expect(v2.action == .updated)
        #expect(v2.version == 2)
        #expect(v2.articleID == v1.articleID)
        #expect(try database.count("articles") == 1)
        #expect(try database.count("versions") == 2)
        #expect(try database.count("articles", where: "version = 2 AND text LIKE '%Lavrov%'") == 1)
        #expect(try database.count("links") == 3, "children are replaced, not added to")

        let store = try await database.store(.readOnly)
        #expect(try await store.search(SearchQuery("lavrov ha noi"), limit: 5).map(\.articleID) == [v1.articleID])
        #expect(try await store.search(SearchQuery("Matxcova"), limit: 5).count == 1)
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func oldVersionRedeliveredAfterAnUpdateIsUnchanged(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let original = try Fixture.envelope(Fixture.parsed())
        var changedArticle = Fixture.parsed()
        changedArticle.title += " (cập nhật)"

        _ = await stage.handle(batch: [original, try Fixture.envelope(changedArticle)])
        let again = try #require(await stage.handle(batch: [original]).first).stored()
        await stage.close()

        #expect(again.action == .unchanged)
        #expect(again.version == 1)
        #expect(try database.count("versions") == 2)
        #expect(try database.count("articles", where: "version = 2 AND title LIKE '%cập nhật%'") == 1)
    }

    @Test(arguments: Backend.allCases)
    func parsedArticleIsLaterEnrichedWithoutANewVersion(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let parsed = Fixture.parsed()
        let fingerprint = ContentFingerprint.of(title: parsed.title, text: parsed.text)

        let first = try #require(await stage.handle(batch: [try Fixture.envelope(parsed)]).first).stored()
        #expect(first.action == .inserted)
        #expect(try database.count("articles", where: "language IS NULL AND simhash IS NULL AND content_hash = '\(fingerprint)'") == 1)

        let sha = String(repeating: "ab", count: 32)
        let second = try #require(
            await stage.handle(batch: [try Fixture.envelope(Fixture.enriched(parsed, contentHash: sha))]).first
        ).stored()
        await stage.close()

        #expect(second.action == .unchanged)
        #expect(try database.count("articles", where: "language = 'vi' AND content_hash = '\(sha)'") == 1)
        #expect(try database.count("keywords") == 3)
        #expect(try database.count("versions") == 1)
    }

    @Test(arguments: Backend.allCases)
    func errorRecordsGoToFailuresOnceAndEmitNothing(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let stage = try database.stage()
        let error = try Fixture.errorEnvelope()

        let outcomes = await stage.handle(batch: [error, try Fixture.envelope(Fixture.parsed()), error])
        await stage.close()

        guard case let .emit(emissions) = outcomes[0] else {
            Issue.record("an error record should be stored, got \(outcomes[0])")
            return
        }
        #expect(emissions.isEmpty)
        #expect(try outcomes[1].stored().action == .inserted)
        #expect(
            try database.count(
                "failures",
                where: "status = 'NOT_FOUND' AND code = 5 AND stage = 'fetch' AND url = 'https://example.vn/missing' AND original LIKE '%url.requested%'"
            ) == 1)
        #expect(try database.count("failures") == 1)
    }

    @Test(arguments: Backend.allCases)
    func searchIgnoresDiacriticsAndShowsTheOriginalWords(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await database.store()
        let danang = Fixture.parsed(
            url: "https://example.vn/da-nang", canonical: nil, title: "Đà Nẵng đón khách quốc tế",
            text: "Thành phố Đà Nẵng đón hơn một triệu lượt khách quốc tế trong năm nay.")
        let english = Fixture.parsed(
            url: "https://example.com/en", canonical: nil, title: "NATO regrets Russia's decision",
            text: "The alliance said it regrets the suspension of the Russian mission.")
        let nfd = Fixture.parsed(
            url: "https://example.vn/nfd", canonical: nil, title: "Tin ngắn".decomposedStringWithCanonicalMapping,
            text: "Phái đoàn thương mại tại Hải Phòng.".decomposedStringWithCanonicalMapping)
        // A combining mark after a space (a dictionary's "◌́") folds to nothing: PostgreSQL refused
        // the article's empty lexeme with a syntax error, on every delivery, and a search with it.
        let marks = Fixture.parsed(
            url: "https://example.vn/dau-sac", canonical: nil, title: "Dấu sắc \u{0301} trong tiếng Việt",
            text: "Dấu sắc ◌\u{0301} đặt trên nguyên âm: á, é, í. \u{0301}\u{0301} Thanh điệu tiếng Việt.")
        let results = try await store.upsert([
            .parsed(Fixture.parsed(), messageID: "1"), .parsed(danang, messageID: "2"), .parsed(english, messageID: "3"),
            .parsed(nfd, messageID: "4"), .parsed(marks, messageID: "5"),
        ])
        let storedMarks = results.compactMap { if case let .stored(stored) = $0, stored.url == marks.url { stored } else { nil } }
        #expect(storedMarks.map(\.action) == [.inserted], "the article with lone marks is stored: \(results)")
        #expect(try await store.search(SearchQuery("dau sac \u{0301}"), limit: 5).map(\.url) == [marks.url])

        let hits = try await store.search(SearchQuery("phai bo ngoai giao"), limit: 10)
        #expect(hits.map(\.url) == ["https://example.vn/nato-nga"])
        #expect(hits.first?.title == Fixture.missionTitle)
        #expect(hits.first?.publishedAt == "2021-10-19T08:00:00+07:00")
        let snippet = hits.first?.snippet.render(open: "«", close: "»") ?? ""
        #expect(snippet.contains("«phái» «bộ» «ngoại» «giao»"), "snippet shows the original words: \(snippet)")
        #expect(try await store.search(SearchQuery("phái bộ ngoại giao"), limit: 10).map(\.url) == ["https://example.vn/nato-nga"])
        #expect(try await store.search(SearchQuery("Matxcova"), limit: 10).first?.snippet.render(open: "[", close: "]").contains("[Matxcơva]") == true)
        for spelling in ["Đà Nẵng", "da nang", "DA NANG", "đà nẵng"] {
            #expect(try await store.search(SearchQuery(spelling), limit: 10).map(\.url) == ["https://example.vn/da-nang"], "\(spelling)")
        }
        #expect(try await store.search(SearchQuery("hai phong"), limit: 10).map(\.url) == ["https://example.vn/nfd"])
        #expect(try await store.search(SearchQuery("NATO"), limit: 10).count == 2)
        #expect(try await store.search(SearchQuery("NATO Nga"), limit: 10).map(\.url) == ["https://example.vn/nato-nga"])
        #expect(try await store.search(SearchQuery("phai bo Lavrov"), limit: 10).isEmpty)
        #expect(try await store.search(SearchQuery("\"phai bo ngoai giao\""), limit: 10).count == 1)
        #expect(try await store.search(SearchQuery("\"giao ngoai\""), limit: 10).isEmpty)
        #expect(try await store.search(SearchQuery("Matx*"), limit: 10).count == 1)
        let odd = try await store.search(SearchQuery("NATO) AND (\"Nga OR ^col:x ' & ! <->"), limit: 10)
        #expect(odd.allSatisfy { $0.url.hasPrefix("https://") })
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func hitsAreRankedByRelevanceAndMarkedWords(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await database.store()
        let filler = Array(repeating: "Thời tiết hôm nay nắng nhẹ, gió đông nam.", count: 6).joined(separator: " ")
        let passing = Fixture.parsed(
            url: "https://example.vn/passing", canonical: nil, title: "Tin thời tiết", text: filler + " Đoàn tàu đi qua Hà Nội.")
        let about = Fixture.parsed(
            url: "https://example.vn/about", canonical: nil, title: "Hà Nội mở rộng đường sắt",
            text: "Hà Nội công bố kế hoạch. Hà Nội sẽ xây thêm ga. Người dân Hà Nội đồng tình.")
        let some = Fixture.parsed(
            url: "https://example.vn/some", canonical: nil, title: "Tin giao thông", text: filler + " Hà Nội tắc đường. Hà Nội mưa.")
        let multipurpose = Fixture.parsed(
            url: "https://example.vn/da-nang-multipurpose", canonical: nil, title: "Máy đa năng",
            text: "Máy đa năng giá rẻ. Thiết bị đa năng cho gia đình.")
        let city = Fixture.parsed(
            url: "https://example.vn/da-nang-city", canonical: nil, title: "Tin du lịch",
            text: "Thời tiết hôm nay nắng nhẹ, gió đông nam, trời quang mây. Khách quốc tế đến Đà Nẵng ngày càng đông.")
        _ = try await store.upsert([
            .parsed(passing, messageID: "1"), .parsed(about, messageID: "2"), .parsed(some, messageID: "3"),
            .parsed(multipurpose, messageID: "4"), .parsed(city, messageID: "5"),
        ])

        let hits = try await store.search(SearchQuery("ha noi"), limit: 10)
        #expect(hits.map(\.url) == ["https://example.vn/about", "https://example.vn/some", "https://example.vn/passing"])
        #expect(hits.map(\.score) == hits.map(\.score).sorted(), "lower scores are better, as in SQLite")
        #expect(try await store.search(SearchQuery("ha noi"), limit: 2).count == 2)
        let marked = try await store.search(SearchQuery("Đà Nẵng"), limit: 10)
        #expect(marked.map(\.url) == ["https://example.vn/da-nang-city", "https://example.vn/da-nang-multipurpose"])
        #expect(try await store.search(SearchQuery("Đà Nẵng"), limit: 1).map(\.url) == ["https://example.vn/da-nang-city"])
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func exportYieldsEveryArticleShapedAsItsMessageType(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let store = try await database.store()
        let enriched = Fixture.enriched(Fixture.parsed(), contentHash: String(repeating: "cd", count: 32))
        let parsed = Fixture.parsed(url: "https://example.vn/only-parsed", canonical: nil)
        var items: [StoreItem] = [.enriched(enriched, messageID: "1"), .parsed(parsed, messageID: "2")]
        for i in 0..<5 {
            items.append(.parsed(Fixture.parsed(url: "https://example.vn/\(i)", canonical: nil), messageID: "p\(i)"))
        }
        _ = try await store.upsert(items)

        var exported: [StoredArticle] = []
        for try await article in store.export(pageSize: 2) { exported.append(article) }
        await database.close()

        #expect(exported.count == 7)
        #expect(exported.map(\.articleID) == exported.map(\.articleID).sorted())
        let first = try #require(exported.first)
        #expect(first.messageType == MessageType.articleEnriched)
        let decoded = try RawJSON(encoding: first).decode(ArticleEnriched.self)
        #expect(decoded.article.title == enriched.article.title)
        #expect(decoded.article.text == enriched.article.text)
        #expect(decoded.article.canonicalURL == enriched.article.canonicalURL)
        #expect(decoded.article.related == enriched.article.related)
        #expect(decoded.article.outlinks == enriched.article.outlinks)
        #expect(decoded.entities == enriched.entities)
        #expect(decoded.quotes == enriched.quotes)
        #expect(decoded.keywords == enriched.keywords)
        #expect(decoded.language == enriched.language)
        #expect(decoded.contentHash == enriched.contentHash)
        let second = exported[1]
        #expect(second.messageType == MessageType.articleParsed)
        #expect(second.enrichment == nil)
        #expect(second.contentHash == ContentFingerprint.of(title: parsed.title, text: parsed.text))
    }

    @Test(arguments: Backend.allCases)
    func twoStoresWritingTheSameArticlesAtOnceStoreEachOnce(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        let a = try await database.store()
        let b = try await database.store()
        let items = (0..<200).map { i in
            StoreItem.parsed(Fixture.parsed(url: "https://example.vn/\(i)", canonical: nil), messageID: "\(i)")
        }
        let batches = stride(from: 0, to: items.count, by: 20).map { Array(items[$0..<min($0 + 20, items.count)]) }

        let actions = try await withThrowingTaskGroup(of: [StoreResult].self) { group in
            for store in [a, b] {
                group.addTask {
                    var results: [StoreResult] = []
                    for batch in batches { results += try await store.upsert(batch) }
                    return results
                }
            }
            var all: [ArticleStored.Action] = []
            for try await results in group {
                for case let .stored(stored) in results { all.append(stored.action) }
            }
            return all
        }

        #expect(actions.filter { $0 == .inserted }.count == 200)
        #expect(actions.filter { $0 == .unchanged }.count == 200)
        #expect(try database.count("articles") == 200)
        #expect(try database.count("versions") == 200)
        #expect(try await a.search(SearchQuery("Matxcova"), limit: 500).count == 200)
        await database.close()
    }

    @Test(arguments: Backend.allCases)
    func readingAStoreThatIsNotThereFails(_ backend: Backend) async throws {
        let database = try TestDatabase(backend)
        do {
            _ = try await database.store(.readOnly)
            Issue.record("opening an empty database to read should fail")
        } catch let error as RunnelError {
            #expect([.notFound, .failedPrecondition].contains(error.code), "\(error)")
            #expect(error.message.contains("runnel store --db"), "says what to do: \(error.message)")
        }
        await database.close()
    }
}
