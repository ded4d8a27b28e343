import RunnelProtocol
import Testing

@testable import ParseStage

/// A line the page itself says again is kept each time; a second copy of the text is given once.
@Suite("Repeated lines")
struct RepeatedLinesTests {
    static func review(_ name: String, _ body: String) -> String {
        """
        <h2>\(name)</h2>
        <p>\(body)</p>
        <p>Pros &amp; Cons</p>
        <ul><li>\(name): a quiet motor, and the battery lasts.</li><li>\(name): the charger is bulky.</li></ul>
        <p><a href="/buy/\(name)">Learn more</a></p>
        """
    }

    static let prose = [
        "The first brush we tried is the one most dentists we asked would recommend to a patient who has never used an electric brush before, mostly because it is simple.",
        "The second brush costs twice as much and adds a pressure sensor, an app and three cleaning modes, none of which changed how clean our teeth felt after a month of use.",
        "The third brush is the cheapest of the three and runs on a single AA battery, which makes it the one we would take on a long trip where there is nowhere to charge.",
    ]

    static func page(mobileCopy: Bool) -> String {
        let reviews = zip(["Alpha", "Beta", "Gamma"], prose).map { review($0, $1) }.joined()
        let copy = mobileCopy ? "<div class=\"mobile-only\">" + prose.map { "<p>\($0)</p>" }.joined() + "</div>" : ""
        return """
            <html><head><title>Three electric toothbrushes, tested</title></head><body>
            <nav><a href="/">Home</a> <a href="/health">Health</a></nav>
            <article><h1>Three electric toothbrushes, tested</h1>
            <p>We brushed with each of these for a month, morning and evening, and asked two dentists what to look for before we started; here is what we found, brush by brush.</p>
            \(reviews)
            \(copy)
            </article><footer>Copyright 2026 Example Reviews</footer></body></html>
            """
    }

    @Test("a short line repeated under each section is kept each time; a repeated link is not")
    func labelsKept() throws {
        let article = try Fixture.parse(Self.page(mobileCopy: false), url: "https://example.com/brushes")
        #expect(article.paragraphs.filter { $0 == "Pros & Cons" }.count == 3)
        #expect(article.paragraphs.filter { $0 == "Learn more" }.count <= 1)
        for paragraph in Self.prose { #expect(article.paragraphs.filter { $0 == paragraph }.count == 1) }
    }

    @Test("a second copy of the text (a mobile layout) is given once")
    func copyDropped() throws {
        let article = try Fixture.parse(Self.page(mobileCopy: true), url: "https://example.com/brushes")
        for paragraph in Self.prose { #expect(article.paragraphs.filter { $0 == paragraph }.count == 1) }
        #expect(article.paragraphs.filter { $0 == "Pros & Cons" }.count == 3)
    }
    @Test("a page that shows its text only once a script runs, and hides it twice: given once, its short lines said again in a run dropped as a copy")
    func hiddenCopyDropped() throws {
        let lines = ["Shipping weight: 0.16 kg", "Product code: ALD-00601", "Package quantity: 148 g"]
        let block = (Self.prose + lines).map { "<p>\($0)</p>" }.joined()
        let html = """
            <html><head><title>Almond thins</title></head><body><div class="loading">Loading…</div>
            <div style="display:none"><div class="mobile">\(block)</div><div class="desktop">\(block)</div></div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://shop.example.com/p/almond-thins")
        for paragraph in Self.prose + lines { #expect(article.paragraphs.filter { $0 == paragraph }.count == 1, "\(article.paragraphs)") }

        let said = ContentExtractor.withoutCopies(["Pros & Cons long enough", "First new line of the text here.", "Pros & Cons long enough", "Second new line."])
        #expect(said.paragraphs.count == 4, "a line said again between new ones stays")
    }
}
