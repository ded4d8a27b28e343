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

    @Test("the same shop page read from a file:// URL gives the same text: its cards' pictures count though their addresses are no web URLs")
    func productGridFromFile() throws {
        let html = try Fixture.text("page.product-grid.html")
        let fromSite = try Fixture.parse(html, url: "https://example.com/desk-accessories/")
        let fromFile = try Fixture.parse(html, url: "file:///home/ana/pages/desk-accessories.html")
        #expect(fromFile.paragraphs == fromSite.paragraphs)
        #expect(fromFile.paragraphs.contains(Self.products[0]))
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
    @Test("a shop's category page that declares nothing gives its grid when the cards carry prices, and keeps its introduction alone when they do not")
    func undeclaredShopGrid() throws {
        let page = try Fixture.text("page.product-grid.html")
        let undeclared = page.replacingOccurrences(of: "<meta property=\"og:type\" content=\"website\">", with: "")
        #expect(undeclared != page)
        let shop = try Fixture.parse(undeclared, url: "https://example.com/desk-accessories/")
        for name in Self.products { #expect(shop.paragraphs.contains(name)) }
        #expect(shop.paragraphs.first?.hasPrefix("Choose from the accessories") == true)

        // The same cards without their prices could be any grid of teasers: left alone.
        let unpriced = undeclared.replacingOccurrences(of: "<div class=\"price\">$ ", with: "<div class=\"price\">No. ")
        #expect(unpriced != undeclared)
        let teasers = try Fixture.parse(unpriced, url: "https://example.com/desk-accessories/")
        #expect(teasers.paragraphs.filter { Self.products.contains($0) }.isEmpty)
    }

    @Test("an article that declares nothing keeps its paragraphs, not the grid of teasers below it")
    func undeclaredArticleWithTeaserGrid() throws {
        let page = try Fixture.text("page.article-with-teaser-grid.html")
        let html = page.replacingOccurrences(of: "<meta property=\"og:type\" content=\"website\">", with: "")
        #expect(html != page)
        let article = try Fixture.parse(html, url: "https://example.com/news/tram")
        #expect(article.paragraphs.count == 4)
        #expect(!article.text.contains("Bridge closes for repairs"))
    }

    @Test("a shop's home page whose <main> holds only links to its departments gives those links, the last one included, not nothing; the menu and footer stay out")
    func departmentLinks() throws {
        let html = try Fixture.text("page.category-links.html")
        let page = try Fixture.parse(html, url: "https://example.com/")
        let departments = [
            "Watercolor Paint", "Acrylic Paint", "Oil Paint", "Brushes & Painting Tools", "Colored Pencils", "Markers",
            "Drawing & Illustration", "Paper & Boards", "Easels & Furniture", "Frames & Framing Supplies",
            "Ceramics & Sculpture", "Printmaking",
        ]
        #expect(page.paragraphs.first == "Featured Gifts")
        // Each department once: the menu's copy of the list is furniture.
        #expect(page.paragraphs.filter { departments.contains($0) } == departments)
        // The last link is the list's last item, not a name signing the page.
        #expect(page.byline == nil)
        #expect(!page.text.contains("Help Center"))
        #expect(!page.text.contains("All rights reserved"))
    }

    @Test("a price is a currency sign beside a digit on a short line", arguments: [
        ("$403.00", true), ("€ 12,99", true), ("1.299.000 ₫", true), ("Now £5 off", true), ("US$ 1,200", true),
        ("12 € / month", true), ("$", false), ("Posted 2024", false), ("Save 25%", false),
        ("Prices rose by $4 billion in the year to March, the ministry said in a statement on Friday.", false),
    ])
    func price(line: String, holdsPrice: Bool) {
        #expect(ContentExtractor.holdsPrice(line) == holdsPrice)
    }
}
