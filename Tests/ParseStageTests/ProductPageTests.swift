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
    @Test("customers' reviews below a product's description are left out, as comments are below an article", arguments: ["product-reviews__most-helpful", "customerReviews"])
    func reviewsLeftOut(reviewsClass: String) throws {
        let review = "<div class=\"review\"><h3>The straps are a game changer</h3><p>I took this on a three-mile hike and did not need to readjust it once, and the compartments are well thought out, though I would like a brighter colour.</p></div>"
        let html = """
            <html><head><title>Trail 25 pack</title></head><body><main><div class="product-description">
            <p>Keep your day's gear within easy reach in the Trail 25 pack. It is designed to fit a wide range of body types, and it has pockets for quick access to all your essentials.</p>
            <p>The ripstop nylon body has a water-repellent finish made without PFAS, and the recycled nylon bottom is highly abrasion resistant, the maker says.</p>
            <p>A padded, mesh-covered back panel and shoulder straps keep it comfortable on long days, and the hipbelt comes off when it is not needed.</p>
            </div><section class="\(reviewsClass)"><h2>Reviews</h2>\(String(repeating: review, count: 4))</section></main></body></html>
            """
        let article = try Fixture.parse(html, url: "https://shop.example.com/p/trail-25")
        #expect(article.paragraphs.first?.hasPrefix("Keep your day's gear") == true)
        #expect(!article.text.contains("three-mile hike"), "\(article.paragraphs)")
    }
}
