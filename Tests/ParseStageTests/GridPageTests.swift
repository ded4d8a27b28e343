import RunnelProtocol
import Testing

@testable import ParseStage

/// Pages whose content is a grid of cards (a shop's category page), and articles with a grid of
/// teasers beside them, which stay articles.
@Suite("Grid pages")
struct GridPageTests {
    static let products = [
        "Bamboo Motion Board", "Inclining Walking Pad", "Narrow File Cabinet", "Square File Cabinet",
        "Desk Organizer Set", "Headphone Stand", "Compact Desk Drawer", "Foot Hammock",
        "Slim Under Desk Shelf", "Mobile Storage Caddy", "Half Circle Desk Drawer", "Hanging Storage Cubby",
        "Clamp-On Cup Holder", "Single Monitor Arm", "Dual Monitor Arm", "Cable Management Tray",
    ]

    @Test("a shop's category page gives its grid of products (each name, price and detail line) and its introduction, not the filters, menu or footer")
    func productGrid() throws {
        let html = try Fixture.text("page.product-grid.html")
        let article = try Fixture.parse(html, url: "https://example.com/desk-accessories/")
        for name in Self.products { #expect(article.paragraphs.contains(name)) }
        #expect(article.paragraphs.contains("$ 179 +"))
        #expect(article.paragraphs.filter { $0.hasPrefix("Ships in") }.count == 16)
        #expect(article.paragraphs.first?.hasPrefix("Choose from the accessories") == true)
        #expect(!article.text.contains("Filter by brand"))
        #expect(!article.text.contains("Uplift (24)"))
        #expect(!article.text.contains("Department 3"))
        #expect(!article.text.contains("All rights reserved"))
    }

    @Test("og:type article beside JSON-LD that names only a WebPage (a WordPress plugin's default) does not make a shop page an article")
    func pluginDefaultArticleType() throws {
        let page = try Fixture.text("page.product-grid.html")
        let declared = """
            <meta property="og:type" content="article">
            <script type="application/ld+json">{"@context":"https://schema.org","@graph":[{"@type":"WebPage","name":"Desk accessories"},{"@type":"WebSite","name":"Example"}]}</script></head>
            """
        let html = page.replacingOccurrences(of: "<meta property=\"og:type\" content=\"website\"></head>", with: declared)
        #expect(html != page)
        let article = try Fixture.parse(html, url: "https://example.com/desk-accessories/")
        for name in Self.products { #expect(article.paragraphs.contains(name)) }

        // With an Article object in its JSON-LD, the same declaration is an article's.
        let post = html.replacingOccurrences(of: "{\"@type\":\"WebPage\"", with: "{\"@type\":\"Article\",\"headline\":\"Desk accessories\"},{\"@type\":\"WebPage\"")
        #expect(post != html)
        let asArticle = try Fixture.parse(post, url: "https://example.com/desk-accessories/")
        #expect(asArticle.paragraphs.filter { Self.products.contains($0) }.count < Self.products.count)
    }

    @Test("an article that calls itself a website keeps its paragraphs, not the larger grid of teasers below it")
    func articleWithTeaserGrid() throws {
        let html = try Fixture.text("page.article-with-teaser-grid.html")
        let article = try Fixture.parse(html, url: "https://example.com/news/tram")
        #expect(article.paragraphs.count == 4)
        #expect(article.text.hasPrefix("The city council voted on Tuesday"))
        #expect(!article.text.contains("Bridge closes for repairs"))
    }
}
