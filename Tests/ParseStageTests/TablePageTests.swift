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
    @Test("a table of specifications: each header cell labels its row, whatever its class says, and a value wrapped in one short paragraph joins it")
    func specifications() throws {
        let rows = [("Best Use", "Hiking"), ("Bag Style", "Backpack"), ("Frame Type", "Internal Frame"), ("Weight", "1 lb. 13 oz.")]
        let table = rows.map { "<tr class=\"specs__row\"><th class=\"specs__header\">\($0.0)</th><td class=\"specs__cell\"><p class=\"specs__value\">\($0.1)</p></td></tr>" }.joined()
        let html = """
            <html><head><title>Trail 25 pack</title></head><body><div class="site-header"><a href="/">Shop</a></div><article>
            <p>Keep your day's gear within easy reach in the Trail 25 pack. It is designed to fit a wide range of body types, and it has pockets for quick access to all your essentials.</p>
            <p>The ripstop nylon body has a water-repellent finish made without PFAS, and the recycled nylon bottom is highly abrasion resistant, the maker says.</p>
            <h2>Technical Specs</h2><table class="specs"><tbody>\(table)</tbody></table></article></body></html>
            """
        let article = try Fixture.parse(html, url: "https://shop.example.com/p/trail-25")
        #expect(Array(article.paragraphs.suffix(4)) == rows.map { "\($0.0) | \($0.1)" })
        #expect(!article.text.contains("Shop"))
    }
}
