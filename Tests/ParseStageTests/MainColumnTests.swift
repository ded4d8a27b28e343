import Testing

@testable import ParseStage

/// Old layouts name their columns by where they stand (`leftCol`, `rightcol`), and a sidebar's
/// name on one site is the article's column on another.
@Suite("Columns named like furniture")
struct MainColumnTests {
    static let prose = [
        "The club put its 24-year-old striker on the transfer list on Monday, saying he had stopped making progress since the summer.",
        "He caught the national coach's eye a year ago without breaking into the squad, and several clubs are said to have asked about him already.",
        "The coaches were not blamed in the club's statement, which thanked him for four seasons and wished him well.",
    ]

    static func page(articleColumn: String, sideColumn: String) -> String {
        let paragraphs = prose.map { "<p>\($0)</p>" }.joined()
        // Readers' opinions beside it, longer and with more commas than the article: with the
        // column names ignored, they would outscore it.
        let opinions = (1...3).map { _ in
            "<p>Well, in my view, and I have followed the club for years, the coaches, not the players, are to blame, and they should go first, before anyone else is sold, traded or loaned out.</p>"
        }.joined()
        let links = (1...6).map { "<li><a href=\"/news/\($0)\">Another transfer story, number \($0)</a></li>" }.joined()
        return """
            <html><head><title>Striker put on the transfer list</title></head><body>
            <div id="\(articleColumn)"><div class="art"><h1>Striker put on the transfer list</h1>
            \(paragraphs)</div>
            <div class="box"><h3>Read also</h3><ul>\(links)</ul></div></div>
            <div id="\(sideColumn)"><p>The league table, the fixtures and the results of the weekend, updated every hour.</p><ul>\(links)</ul>
            <div class="box"><h3>Opinions</h3>\(opinions)</div></div>
            </body></html>
            """
    }

    @Test("a column named leftCol that holds the page's title and its text is the article's column")
    func titledColumn() throws {
        let article = try Fixture.parse(Self.page(articleColumn: "leftCol", sideColumn: "rightCol"), url: "https://sport.example/striker")
        #expect(article.paragraphs == Self.prose)
    }

    @Test("a column named rightcol without the title is still a sidebar: its lines stay out")
    func untitledColumn() throws {
        let article = try Fixture.parse(Self.page(articleColumn: "leftCol", sideColumn: "rightCol"), url: "https://sport.example/striker")
        #expect(!article.text.contains("league table"))
        #expect(!article.text.contains("in my view"))
        let swapped = try Fixture.parse(Self.page(articleColumn: "rightCol", sideColumn: "leftCol"), url: "https://sport.example/striker")
        #expect(swapped.paragraphs == Self.prose)
        #expect(!swapped.text.contains("league table"))
    }
}
