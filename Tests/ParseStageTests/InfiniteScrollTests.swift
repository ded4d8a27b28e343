import Testing

@testable import ParseStage

/// An infinite-scroll page: the story asked for, then the next ones rendered whole below it.
@Suite("Whole articles one after another")
struct InfiniteScrollTests {
    @Test("the article headed by the page's title is the content; the next stories stay out")
    func titledArticle() throws {
        let article = try Fixture.parse(
            Fixture.text("page.infinite-scroll-articles.html"), url: "https://correctiv.example/aktuelles/wir-haben-bereits-die-zusage/")
        #expect(article.title == "„Wir haben bereits die Zusage“")
        #expect(article.paragraphs.first?.hasPrefix("Vorweg: Die beteiligten Politiker") == true, "\(article.paragraphs)")
        #expect(article.text.contains("Extrablatt, das vor allem Angst"))
        #expect(!article.text.contains("Spendenskandal"), "the next story")
        #expect(!article.text.contains("Geldstrafe") && !article.text.contains("Bundestagsverwaltung"), "the one after")
    }

    @Test("whole posts of which none is headed by the title (a blog's home page) are all kept")
    func untitledPosts() throws {
        let html = try Fixture.text("page.infinite-scroll-articles.html")
            .replacingOccurrences(of: "„Wir haben bereits die Zusage“ – CORRECTIV", with: "Recherchen – CORRECTIV")
            .replacingOccurrences(of: "content=\"„Wir haben bereits die Zusage“\"", with: "content=\"Recherchen\"")
        let article = try Fixture.parse(html, url: "https://correctiv.example/aktuelles/")
        #expect(article.text.contains("Vorweg: Die beteiligten Politiker"))
        #expect(article.text.contains("Spendenskandal") && article.text.contains("Bundestagsverwaltung"), "\(article.paragraphs)")
    }
}
