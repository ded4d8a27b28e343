import RunnelProtocol
import Testing

@testable import ParseStage

@Suite("Metadata")
struct MetadataTests {
    @Test("the site name is stripped from a title", arguments: [
        ("Nga thông báo đình chỉ hoạt động phái bộ ngoại giao - Báo Thế giới & Việt Nam", "Báo Thế giới & Việt Nam",
            "Nga thông báo đình chỉ hoạt động phái bộ ngoại giao"),
        ("Harbour cranes return to service | The Coastal Ledger", nil, "Harbour cranes return to service"),
        ("BBC News - Harbour cranes return to service after storm", "BBC News", "Harbour cranes return to service after storm"),
        ("Harbour cranes return — Ledger", "The Coastal Ledger", "Harbour cranes return"),
        ("A title without a site", nil, "A title without a site"),
        ("Covid-19 - what we know - and what we don't", nil, "Covid-19 - what we know - and what we don't"),
    ] as [(String, String?, String)])
    func stripsSiteName(title: String, site: String?, expected: String) {
        #expect(MetadataExtractor.strippingSiteName(title, siteName: site) == expected)
    }

    @Test("a byline loses its By and the punctuation around the name; a lone By or a URL slug is no byline", arguments: [
        ("By Ada Lovelace", "Ada Lovelace"), ("By", ""), ("by:", ""), ("  BY  ", ""), (", USA TODAY", "USA TODAY"),
        ("Brian Truitt, USA TODAY", "Brian Truitt, USA TODAY"), ("| Ada Lovelace |", "Ada Lovelace"),
        ("— By Grace Hopper", "Grace Hopper"), ("Tác giả: Minh Anh", "Minh Anh"), ("jane-doe", ""),
        ("brandon_peaktwo", ""), ("Jean-Luc Picard", "Jean-Luc Picard"), ("AP", "AP"), ("Lê Thị-Hoa", "Lê Thị-Hoa"),
    ])
    func bylineCleanup(text: String, expected: String) {
        #expect(MetadataExtractor.cleanByline(text) == expected)
    }

    @Test("a meta author that is only a slug gives way to the byline on the page")
    func slugAuthorGivesWay() throws {
        let html = """
            <html><head><meta name="author" content="brandon-peaktwo"><title>Cranes</title></head>
            <body><article><h1>Cranes</h1><p class="byline">By Ada Lovelace</p>
            <p>All six container cranes are working again after the storm, the port said on Thursday morning.</p>
            <p>Repairs took four days longer than planned because parts had to be flown in from abroad.</p>
            </article></body></html>
            """
        let article = try Fixture.parse(html, url: "https://ledger.example.com/cranes")
        #expect(article.byline == "Ada Lovelace")
    }

    @Test("JSON-LD: headline, authors, dates, publisher, and articleBody over a paywalled page")
    func jsonLD() throws {
        let html = try Fixture.text("page.en.jsonld-paywall.html")
        let article = try ParseStage().parse(
            PageFetched(url: "https://ledger.example.com/2025/11/13/cranes", html: html))
        #expect(article.title == "Harbour cranes return to service after storm")
        #expect(article.byline == "Ada Lovelace, Grace Hopper")
        #expect(article.publishedAt == "2025-11-13T08:30:00Z")
        #expect(article.updatedAt == "2025-11-13T10:05:00Z")
        #expect(article.siteName == "The Coastal Ledger")
        #expect(article.lang == "en-GB")
        #expect(article.description == "All six container cranes are working again.")
        #expect(article.paragraphs.count == 4)
        #expect(article.paragraphs[2].hasPrefix("\"We lost four days"))
        #expect(!article.text.contains("Subscribe"))
        #expect(article.kind == .article)

        let off = try ParseStage(configuration: .init(useJSONLDArticleBody: false)).parse(
            PageFetched(url: "https://ledger.example.com/2025/11/13/cranes", html: html))
        #expect(off.paragraphs.count < 4)
    }

    @Test("the title is the h1 that the <title> contains, not the site's logo heading")
    func titleFromHeading() throws {
        let html = """
            <html><head><title>Cranes return after storm :: Harbour News</title></head><body>
            <h1 class="logo">Harbour News</h1><div class="story"><h1>Cranes return after storm</h1>
            <p>All six container cranes at the northern terminal were working again on Thursday, four days after the storm.</p>
            <p>Engineers replaced two damaged drive motors overnight, and the backlog of ships would clear by the weekend.</p>
            </div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.com/cranes")
        #expect(article.title == "Cranes return after storm")
        #expect(article.paragraphs.count == 2)
    }

    /// A page of 2012 declares no site name; its `<title>` sets it off from the headline.
    @Test("without a declared site name, the title's name segment is the site's, when the headline is the page's", arguments: [
        ("Cranes return after storm - Harbour News", "<h1>Cranes return after storm</h1>", "Harbour News"),
        ("Harbour News :: Cranes return after storm", "<h1>Cranes return after storm</h1>", "Harbour News"),
        // The headline is not on the page: the segment may be anything.
        ("Cranes return after storm - Harbour News", "<h1>Weather</h1>", nil),
        // A date is what the title ends with, not a name.
        ("Cranes return after storm | 3 stycznia 2012", "<h1>Cranes return after storm</h1>", nil),
        ("Cranes return after storm", "<h1>Cranes return after storm</h1>", nil),
    ] as [(String, String, String?)])
    func siteNameFromTitle(title: String, heading: String, expected: String?) throws {
        let html = """
            <html><head><title>\(title)</title></head><body>\(heading)
            <p>All six container cranes at the northern terminal were working again on Thursday, four days after the storm.</p>
            <p>Engineers replaced two damaged drive motors overnight, and the backlog of ships would clear by the weekend.</p>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.com/cranes")
        #expect(article.siteName == expected)
    }

    @Test("a declared site name wins over the title's segment")
    func declaredSiteName() throws {
        let html = """
            <html><head><title>Cranes return after storm - HN</title><meta property="og:site_name" content="Harbour News">
            </head><body><h1>Cranes return after storm</h1>
            <p>All six container cranes at the northern terminal were working again on Thursday, four days after the storm.</p>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.com/cranes")
        #expect(article.siteName == "Harbour News")
        #expect(article.title == "Cranes return after storm")
    }

    @Test("the lead image is the picture the page declares, else the article's first; images stay the article's own")
    func leadImage() throws {
        func parse(_ head: String) throws -> ArticleParsed {
            let html = """
                <html><head><title>Cranes return after storm</title>\(head)</head><body><article><h1>Cranes return after storm</h1>
                <p>All six container cranes at the northern terminal were working again on Thursday, four days after the storm.</p>
                <figure><img src="/img/crane-2.jpg"><figcaption>Crane 2 lifting its first box</figcaption></figure>
                <p>Engineers replaced two damaged drive motors overnight, and the backlog of ships would clear by the weekend.</p>
                </article></body></html>
                """
            return try Fixture.parse(html, url: "https://news.example.com/2025/cranes")
        }
        let declared = try parse(#"<meta property="og:image" content="/img/cranes-card.jpg">"#)
        #expect(declared.leadImage == "https://news.example.com/img/cranes-card.jpg")
        #expect(declared.images.map(\.src) == ["https://news.example.com/img/crane-2.jpg"])
        let undeclared = try parse("")
        #expect(undeclared.leadImage == "https://news.example.com/img/crane-2.jpg")
    }
}
