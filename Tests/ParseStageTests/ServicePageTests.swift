import RunnelProtocol
import Testing

@testable import ParseStage

/// Home and service pages that declare themselves (`og:type` `website`): one section of prose and
/// many of short lines, all of which are the page's content.
@Suite("Service pages")
struct ServicePageTests {
    static let url = "https://example.com/data-analytics"

    @Test("a service page gives its hero line, every section of short lines and its linked cards, not only its one section of prose")
    func sectionsOfShortLines() throws {
        let article = try Fixture.parse(Fixture.text("page.service-sections.html"), url: Self.url)
        // Each card is one link: a link box, which an article's cleanup drops as navigation.
        #expect(article.paragraphs.contains("Dashboards"))
        #expect(article.paragraphs.contains("Plan stock and staff with models tested against your history."))
        #expect(article.paragraphs.contains("Data analytics consulting that brings clarity to complexity"))
        #expect(article.paragraphs.contains { $0.hasPrefix("Our consultants work with your finance") })
        for line in ["Retail chains", "Cloud data warehouses", "A fixed price up front", "Single sign-on support"] {
            #expect(article.paragraphs.contains(line))
        }
        #expect(!article.text.contains("Service 3"))
        #expect(!article.text.contains("All rights reserved"))
    }

    @Test("a main landmark drawn as a div with role=main is taken like <main>, and the text outside it left out")
    func roleMain() throws {
        let html = try Fixture.text("page.service-sections.html")
            .replacingOccurrences(of: "<main>", with: #"<div class="strip"><p>Free delivery of every printed report, every day of the year.</p></div><div role="main" class="page-content">"#)
            .replacingOccurrences(of: "</main>", with: "</div>")
        let article = try Fixture.parse(html, url: Self.url)
        #expect(article.paragraphs.contains("Single sign-on support"))
        #expect(article.paragraphs.contains("Plan stock and staff with models tested against your history."))
        #expect(!article.text.contains("Free delivery"))
    }

    @Test("the same page declaring a product keeps its description only: a product's main holds reviews and related items")
    func productPageNotWidened() throws {
        let html = try Fixture.text("page.service-sections.html").replacingOccurrences(
            of: #"<meta property="og:type" content="website">"#, with: #"<meta property="og:type" content="product">"#)
        let article = try Fixture.parse(html, url: Self.url)
        #expect(article.paragraphs.contains { $0.hasPrefix("Our consultants work with your finance") })
        #expect(!article.paragraphs.contains("Retail chains"))
    }
}
