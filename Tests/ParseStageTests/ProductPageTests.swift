import RunnelProtocol
import Testing

@testable import ParseStage

/// Product pages drawn by a script, whose served HTML holds the product's text only in its JSON-LD.
@Suite("Product pages")
struct ProductPageTests {
    @Test("a product page with little text gives the description its JSON-LD declares, first")
    func descriptionFromJSONLD() throws {
        let html = try Fixture.text("page.product-jsonld-description.html")
        let article = try Fixture.parse(html, url: "https://example.com/products/quarter-socks")
        #expect(article.paragraphs.first?.hasPrefix("These quarter socks are made for comfort") == true)
        #expect(article.paragraphs.contains("Color: white"))
        #expect(!article.text.contains("All rights reserved"))
    }
}
