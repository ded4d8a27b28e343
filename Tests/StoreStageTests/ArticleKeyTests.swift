import RunnelProtocol
import StoreStage
import Testing

@Suite("The store keys an article by its URL in WHATWG form")
struct ArticleKeyTests {
    @Test func spellingsOfOneURLAreOneArticle() async throws {
        let dir = try TemporaryDirectory()
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let spellings = [
            "https://example.vn/tin/nato-nga", "HTTPS://Example.VN:443/tin/./nato-nga",
            "https://example.vn/tin/a/../nato-nga#binh-luan", " https://example.vn/tin/%2e/nato-nga",
        ]
        var stored: [ArticleStored] = []
        for spelling in spellings {
            let article = Fixture.parsed(url: "https://example.vn/x.html", canonical: spelling)
            stored.append(try #require(await stage.handle(batch: [try Fixture.envelope(article)]).first).stored())
        }
        #expect(stored.map(\.action) == [.inserted, .unchanged, .unchanged, .unchanged])
        #expect(Set(stored.map(\.canonicalURL)) == ["https://example.vn/tin/nato-nga"])
        #expect(Set(stored.map(\.articleID)).count == 1)
    }

    @Test func aKeyThatIsNotAURLIsKeptAsWritten() async throws {
        let dir = try TemporaryDirectory()
        let stage = StoreStage(configuration: SQLiteStoreConfiguration(path: dir.path("news.sqlite")))
        let article = Fixture.parsed(url: "pages/nato-nga.html", canonical: nil)
        let stored = try #require(await stage.handle(batch: [try Fixture.envelope(article)]).first).stored()
        #expect(stored.canonicalURL == "pages/nato-nga.html")
    }
}
