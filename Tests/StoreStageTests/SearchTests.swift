import Foundation
import GRDB
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

@Suite struct SearchTests {
    /// A store holding the NATO article, one about Đà Nẵng and one in English.
    func makeStore(_ dir: TemporaryDirectory) async throws -> SQLiteArticleStore {
        let path = dir.path("news.sqlite")
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))
        let danang = Fixture.parsed(
            url: "https://example.vn/da-nang", canonical: nil, title: "Đà Nẵng đón khách quốc tế",
            text: "Thành phố Đà Nẵng đón hơn một triệu lượt khách quốc tế trong năm nay.")
        let english = Fixture.parsed(
            url: "https://example.com/en", canonical: nil, title: "NATO regrets Russia's decision",
            text: "The alliance said it regrets the suspension of the Russian mission.")
        _ = try await store.upsert([
            .parsed(Fixture.parsed(), messageID: "1"), .parsed(danang, messageID: "2"), .parsed(english, messageID: "3"),
        ])
        return store
    }

    /// Queries a person (or a script) may type that FTS5 would read as syntax: each is refused
    /// with `INVALID_ARGUMENT` (nothing to search for) or searched as words, never an SQLite error.
    @Test(arguments: [
        "\"", "*", "^", "(((", "-", "NEAR(nato nga", "title:nato", "{title}: nato", "nato AND OR NOT nga",
        "\"unterminated phrase", "nato*nga*", "a\u{0}b", "'; DROP TABLE articles; --", "\\\\", "😀 nato",
    ])
    func hostileSyntax(query: String) async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)
        do {
            let parsed = try SearchQuery(query)
            _ = try await store.search(parsed, limit: 10)
        } catch {
            #expect(error.code == .invalidArgument, "\(query): \(error.code.name): \(error.message)")
        }
        #expect(try await store.search(SearchQuery("nato"), limit: 10).count == 2, "the store still answers")
    }

    @Test("messages quote a query cut to 60 characters, control characters escaped")
    func quotedQuery() throws {
        #expect(SearchQuery.quoted("nato nga") == "\"nato nga\"")
        let long = Array(repeating: "nato", count: 4_000).joined(separator: " ")
        #expect(SearchQuery.quoted(long) == "\"" + String(long.prefix(60)) + "…\" (19999 characters)")
        #expect(SearchQuery.quoted("a\u{1B}[2Jb") == "\"a\\u{1B}[2Jb\"")
        #expect(throws: RunnelError.self) { try SearchQuery(String(repeating: "-", count: 10_000)) }
        do {
            _ = try SearchQuery(String(repeating: "-", count: 10_000))
        } catch {
            #expect(error.message.count < 200, "\(error.message.count) characters")
        }
    }

    @Test("a query of 4,000 words is searched, and finds what has all of them")
    func longQuery() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)
        let words = Array(repeating: "nato", count: 4_000).joined(separator: " ")
        #expect(try await store.search(SearchQuery(words), limit: 10).count == 2)
        let missing = words + " khongcotu"
        #expect(try await store.search(SearchQuery(missing), limit: 10).isEmpty)
    }

    @Test func unaccentedQueryFindsVietnameseWithTwoMarks() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        let hits = try await store.search(SearchQuery("phai bo ngoai giao"), limit: 10)

        #expect(hits.map(\.url) == ["https://example.vn/nato-nga"])
        let hit = try #require(hits.first)
        #expect(hit.title == Fixture.missionTitle)
        #expect(hit.publishedAt == "2021-10-19T08:00:00+07:00")
        let snippet = hit.snippet.render(open: "«", close: "»")
        #expect(snippet.contains("«phái» «bộ» «ngoại» «giao»"), "snippet shows the original words: \(snippet)")
    }

    @Test("a passage is one line: paragraphs and list items joined by one space, not by their newlines' spaces")
    func passageOnOneLine() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let movers = Fixture.parsed(
            url: "https://example.com/movers", canonical: nil, title: "Movers in New York",
            text: "They lack storage.\n\nPros & Cons\n\nPros\n  Efficient service\tCareful handling")
        _ = try await store.upsert([.parsed(movers, messageID: "1")])
        let hit = try #require(try await store.search(SearchQuery("efficient"), limit: 1).first)
        let passage = hit.snippet.render(open: "«", close: "»")
        #expect(passage == "They lack storage. Pros & Cons Pros «Efficient» service Careful handling", "\(passage)")
    }

    @Test func matxcovaFindsMatxcơva() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        let hits = try await store.search(SearchQuery("Matxcova"), limit: 10)

        #expect(hits.map(\.url) == ["https://example.vn/nato-nga"])
        #expect(hits.first?.snippet.render(open: "[", close: "]").contains("[Matxcơva]") == true)
    }

    @Test(arguments: ["Đà Nẵng", "da nang", "DA NANG", "đà nẵng", "Da Nang"])
    func daNangInAnySpellingFindsĐàNẵng(query: String) async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        let hits = try await store.search(SearchQuery(query), limit: 10)

        #expect(hits.map(\.url) == ["https://example.vn/da-nang"])
    }

    @Test func decomposedTextIsFoundToo() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let nfd = Fixture.parsed(
            url: "https://example.vn/nfd", canonical: nil, title: "Tin ngắn".decomposedStringWithCanonicalMapping,
            text: "Phái bộ ngoại giao tại Matxcơva.".decomposedStringWithCanonicalMapping)
        _ = try await store.upsert([.parsed(nfd, messageID: "1")])

        #expect(try await store.search(SearchQuery("phái bộ"), limit: 5).count == 1)
        #expect(try await store.search(SearchQuery("phai bo"), limit: 5).count == 1)
    }

    @Test func allWordsMustOccur() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        #expect(try await store.search(SearchQuery("NATO"), limit: 10).count == 2)
        #expect(try await store.search(SearchQuery("NATO Nga"), limit: 10).map(\.url) == ["https://example.vn/nato-nga"])
        #expect(try await store.search(SearchQuery("phai bo Lavrov"), limit: 10).isEmpty)
    }

    @Test func phraseAndPrefix() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        #expect(try await store.search(SearchQuery("\"phai bo ngoai giao\""), limit: 10).count == 1)
        #expect(try await store.search(SearchQuery("\"giao ngoai\""), limit: 10).isEmpty)
        #expect(try await store.search(SearchQuery("Matx*"), limit: 10).count == 1)
    }

    @Test func hitsAreRankedByRelevance() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let filler = Array(repeating: "Thời tiết hôm nay nắng nhẹ, gió đông nam.", count: 6).joined(separator: " ")
        let passing = Fixture.parsed(
            url: "https://example.vn/passing", canonical: nil, title: "Tin thời tiết",
            text: filler + " Đoàn tàu đi qua Hà Nội.")
        let about = Fixture.parsed(
            url: "https://example.vn/about", canonical: nil, title: "Hà Nội mở rộng đường sắt",
            text: "Hà Nội công bố kế hoạch. Hà Nội sẽ xây thêm ga. Người dân Hà Nội đồng tình.")
        let some = Fixture.parsed(
            url: "https://example.vn/some", canonical: nil, title: "Tin giao thông",
            text: filler + " Hà Nội tắc đường. Hà Nội mưa.")
        _ = try await store.upsert([
            .parsed(passing, messageID: "1"), .parsed(about, messageID: "2"), .parsed(some, messageID: "3"),
        ])

        let hits = try await store.search(SearchQuery("ha noi"), limit: 10)

        #expect(hits.map(\.url) == ["https://example.vn/about", "https://example.vn/some", "https://example.vn/passing"])
        #expect(hits.map(\.score) == hits.map(\.score).sorted())
        #expect(try await store.search(SearchQuery("ha noi"), limit: 2).count == 2)
    }

    @Test func queryWithoutWordsIsInvalid() {
        #expect(throws: RunnelError.self) { try SearchQuery(" \"\" *-* ") }
        do {
            _ = try SearchQuery("?!")
            Issue.record("a query without words should not parse")
        } catch {
            #expect(error.code == .invalidArgument)
        }
    }

    @Test func punctuationCannotBreakTheFTSSyntax() async throws {
        let dir = try TemporaryDirectory()
        let store = try await makeStore(dir)

        let hits = try await store.search(SearchQuery("NATO) AND (\"Nga OR ^col:x"), limit: 10)

        #expect(hits.allSatisfy { $0.url.hasPrefix("https://") })
    }
}

@Suite struct PhraseRankingTests {
    @Test func wordsStandingTogetherRankAboveScatteredOnes() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let filler = "Thời tiết hôm nay nắng nhẹ, gió đông nam, trời quang mây."
        let together = Fixture.parsed(
            url: "https://example.vn/together", canonical: nil, title: "Tin du lịch",
            text: "\(filler) Khách quốc tế đến Đà Nẵng. \(filler)")
        let scattered = Fixture.parsed(
            url: "https://example.vn/scattered", canonical: nil, title: "Tin thể thao",
            text: "Đội tuyển đã tập luyện. Cầu thủ đã có năng lượng. \(filler) Kỹ năng tốt.")
        _ = try await store.upsert([.parsed(scattered, messageID: "1"), .parsed(together, messageID: "2")])

        let hits = try await store.search(SearchQuery("da nang"), limit: 10)

        #expect(hits.map(\.url) == ["https://example.vn/together", "https://example.vn/scattered"])
        #expect(try SearchQuery("da nang").matchExpression == #"("da" "nang") OR "da nang""#)
        #expect(try SearchQuery("Matx*").matchExpression == #""matx"*"#)
    }
}

@Suite struct IndexMaintenanceTests {
    @Test func indexBuiltWithAnotherFoldingIsRebuiltOnOpen() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        do {
            let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))
            _ = try await store.upsert([.parsed(Fixture.parsed(), messageID: "1")])
            store.close()
        }
        // Simulate an index made by an older folding: empty it and mark it as version 0.
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO articles_fts (articles_fts) VALUES ('delete-all')")
            try db.execute(sql: "PRAGMA user_version = 0")
        }
        try queue.close()
        let stale = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path, mode: .readOnly))
        #expect(try await stale.search(SearchQuery("Matxcova"), limit: 5).isEmpty)
        stale.close()

        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))

        #expect(try await store.search(SearchQuery("Matxcova"), limit: 5).count == 1)
        #expect(try count("articles", in: path) == 1)
    }

    @Test func indexStaysConsistentThroughUpdates() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))
        var article = Fixture.parsed()
        for round in 0..<5 {
            article.text += "\n\nCập nhật lần \(round): Đà Nẵng."
            _ = try await store.upsert([.parsed(article, messageID: "\(round)")])
        }

        let queue = try DatabaseQueue(path: path)
        defer { try? queue.close() }
        try await queue.write { db in
            try db.execute(sql: "INSERT INTO articles_fts (articles_fts, rank) VALUES ('integrity-check', 1)")
        }
        #expect(try count("versions", in: path) == 5)
        #expect(try await store.search(SearchQuery("cap nhat lan 4"), limit: 5).count == 1)
        #expect(try await store.search(SearchQuery("Matxcova"), limit: 5).count == 1)
    }

    @Test func aReaderSeesWhatTheWriterCommittedWhileBothAreOpen() async throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("news.sqlite")
        let writer = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path))
        let reader = try SQLiteArticleStore(SQLiteStoreConfiguration(path: path, mode: .readOnly))
        #expect(try await reader.search(SearchQuery("Matxcova"), limit: 5).isEmpty)

        _ = try await writer.upsert([.parsed(Fixture.parsed(), messageID: "1")])

        #expect(try await reader.search(SearchQuery("Matxcova"), limit: 5).count == 1)
        await #expect(throws: RunnelError.self) { try await reader.upsert([.parsed(Fixture.parsed(), messageID: "2")]) }
    }
}

@Suite struct MarkedWordRankingTests {
    @Test func wordsTypedWithMarksRankArticlesThatHaveThemAsWrittenFirst() async throws {
        let dir = try TemporaryDirectory()
        let store = try SQLiteArticleStore(SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let multipurpose = Fixture.parsed(
            url: "https://example.vn/da-nang-multipurpose", canonical: nil, title: "Máy đa năng",
            text: "Máy đa năng giá rẻ. Thiết bị đa năng cho gia đình.")
        let city = Fixture.parsed(
            url: "https://example.vn/da-nang-city", canonical: nil, title: "Tin du lịch",
            text: "Thời tiết hôm nay nắng nhẹ, gió đông nam, trời quang mây. Khách quốc tế đến Đà Nẵng ngày càng đông.")
        _ = try await store.upsert([.parsed(multipurpose, messageID: "1"), .parsed(city, messageID: "2")])

        let marked = try await store.search(SearchQuery("Đà Nẵng"), limit: 10)
        let unmarked = try await store.search(SearchQuery("da nang"), limit: 10)
        let one = try await store.search(SearchQuery("Đà Nẵng"), limit: 1)

        #expect(marked.map(\.url) == ["https://example.vn/da-nang-city", "https://example.vn/da-nang-multipurpose"])
        #expect(unmarked.first?.url == "https://example.vn/da-nang-multipurpose", "bm25 alone prefers the short title match")
        #expect(one.map(\.url) == ["https://example.vn/da-nang-city"])
        #expect(try SearchQuery("Đà Nẵng da").markedWords == ["đà", "nẵng"])
        #expect(try SearchQuery("da nang").markedWords.isEmpty)
    }
}
