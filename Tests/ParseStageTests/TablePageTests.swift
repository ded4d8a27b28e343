import RunnelProtocol
import Testing

@testable import ParseStage

/// Tables of data inside an article: each row one line of its cells, short cells kept.
@Suite("Tables of data")
struct TablePageTests {
    static func parse() throws -> ArticleParsed {
        let html = try Fixture.text("page.data-table.html")
        return try Fixture.parse(html, url: "https://example.com/news/results")
    }

    @Test("each row is one line, its cells in order, however short; a column called Share is no share bar")
    func rowsKeptWhole() throws {
        let article = try Self.parse()
        #expect(article.paragraphs.contains("District | Votes | Share | Seat"))
        #expect(article.paragraphs.contains("North | 12,345 | 41% | held by the governing party"))
        #expect(article.paragraphs.contains("South | 9,876 | 33% | held by the governing party"), "a value the column repeats is kept each time")
        #expect(article.paragraphs.contains("East | 7,654 (after the recount) | 26% | -"), "two runs of one cell join with a space")
    }

    @Test("the prose around the table stays in order, and a layout table's paragraphs stay paragraphs")
    func prose() throws {
        let article = try Self.parse()
        let paragraphs = article.paragraphs
        let header = try #require(paragraphs.firstIndex(of: "District | Votes | Share | Seat"))
        #expect(paragraphs.first?.hasPrefix("The commission published") == true)
        #expect(paragraphs[header + 4].hasPrefix("Turnout was higher"))
        #expect(paragraphs.contains { $0.hasPrefix("The new council meets") && !$0.contains("|") })
        #expect(paragraphs.last?.hasPrefix("Both parties said") == true)
        #expect(!article.text.contains("All rights reserved"))
        #expect(!article.text.contains("Sport"))
    }
}
