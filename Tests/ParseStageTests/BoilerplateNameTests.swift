import RunnelProtocol
import Testing

@testable import ParseStage

/// Class and id names that look like boilerplate but sit on the article itself: they give way to
/// what the element holds (prose, few links, an `<article>`), while real boilerplate stays out.
@Suite("Boilerplate names that yield to prose")
struct BoilerplateNameTests {
    let stage = ParseStage()
    static let prose1 = "The committee met on Tuesday to review the harbour plan, and its members agreed that the new quay should open in spring, after the dredging is finished."
    static let prose2 = "Engineers told the meeting that the work had gone faster than expected, although the winter storms had cost them two weeks of diving time in January."
    static let prose3 = "Local fishermen, who had opposed the first version of the plan, said they were satisfied with the changes made to the mooring area on the north side."

    func parse(_ html: String) throws -> ArticleParsed {
        try stage.parse(PageFetched(url: "https://example.com/a", contentType: "text/html", html: html))
    }

    @Test("class words: toc and pager name link lists, tag-<slug> is a taxonomy class, comments are comments")
    func classWords() {
        #expect(Vocabulary.hints(forClassAndID: "toc-para").contains(.linkList))
        #expect(!Vocabulary.hints(forClassAndID: "toc-para").contains(.boilerplate))
        #expect(Vocabulary.hints(forClassAndID: "breadcrumb").contains(.linkList))
        #expect(!Vocabulary.hints(forClassAndID: "product-detail tag-ceramic-cup tag-handmade").contains(.boilerplate))
        #expect(Vocabulary.hints(forClassAndID: "post-tags").contains(.boilerplate))
        #expect(Vocabulary.hints(forClassAndID: "entry-tag").contains(.boilerplate))
        #expect(Vocabulary.hints(forClassAndID: "comment-list").isSuperset(of: [.boilerplate, .comments]))
        // Utility-class variants are ignored whole, their parts too.
        #expect(Vocabulary.hints(forClassAndID: "lg:hidden [&_ad]:mt-2").isEmpty)
    }

    @Test("sections classed toc-para that hold prose are the text; the table of contents is not")
    func tocSections() throws {
        let html = """
            <html><head><title>Forming a harbour trust</title></head><body>
            <nav class="toc"><ul><li><a href="#a">Overview</a></li><li><a href="#b">Questions</a></li><li><a href="#c">Fees</a></li></ul></nav>
            <div class="toc-chapters">
            <section class="toc-para" id="a"><p>\(Self.prose1)</p><p>\(Self.prose2)</p></section>
            <section class="toc-para" id="b"><p>\(Self.prose3)</p><p>\(Self.prose1)</p></section>
            </div></body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs == [Self.prose1, Self.prose2, Self.prose3])
        #expect(!article.text.contains("Overview"))
    }

    @Test("a newsletter page: the <article> inside a section classed cc-newsletter is the text")
    func newsletterArticle() throws {
        let body = String(repeating: "<p>\(Self.prose3) \(Self.prose1) \(Self.prose2)</p>", count: 5)
        let html = """
            <html><head><title>Harbour news</title></head><body>
            <div class="newsletter-signup"><p>Join 80,000 readers and get our newsletter every month, straight to your inbox.</p></div>
            <main><section class="section-hero cc-newsletter"><div>
            <article class="newsletter-body"><div class="rich-text-newsletter"><p>\(Self.prose1)</p><p>\(Self.prose2)</p>\(body)</div></article>
            </div></section>
            <section class="testimonials"><p>\(Self.prose3) Thank you!</p><p>\(Self.prose2) Thank you!</p></section></main></body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs.first == Self.prose1)
        #expect(article.paragraphs.count == 3)
        #expect(!article.text.contains("Thank you!"))
        #expect(!article.text.contains("Join 80,000"))
    }

    @Test("a long prose box with a boilerplate name inside the article is kept; comments and tags are not")
    func proseBoxInsideArticle() throws {
        let recap = [Self.prose1, Self.prose2, Self.prose3, Self.prose1, Self.prose2, Self.prose3, Self.prose1, Self.prose2, Self.prose3]
            .joined(separator: " ")
        let html = """
            <html><head><title>The best harbour cranes</title></head><body><article>
            <p>\(Self.prose1)</p>
            <div class="keyword-recap"><h3>Why we picked it</h3><p>\(recap)</p></div>
            <div class="comments"><h3>Comments</h3><p>\(recap.replacingOccurrences(of: "committee", with: "reader"))</p></div>
            <div class="post-tags"><a href="/t/1">Harbours</a> <a href="/t/2">Cranes</a></div>
            </article></body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs.contains(recap))
        #expect(!article.text.contains("reader met"))
        #expect(!article.text.contains("Harbours"))
    }

    @Test("short sections named as a long one kept as prose (TestReport__Section--Ads) are the article's too; an author box is not")
    func sectionsNamedLikeAProseSibling() throws {
        let long = [Self.prose1, Self.prose2, Self.prose3, Self.prose1, Self.prose2, Self.prose3, Self.prose1].joined(separator: " ")
        let verdict = "Verdict: the crane is cheap, well made and lifts more than it says, but it is loud at full load."
        let price = "At 149 euros it costs a fifth of the crane it copies, and the discounter sold out within minutes in both of its chains, so waiting for the next offer, or paying five times as much for the original, are the only ways to get one."
        let bio = "Anna Berg has written about ports and shipping for twelve years, and before that worked as a harbour pilot in Gothenburg for a decade."
        let html = """
            <html><head><title>Harbour crane review</title></head><body><article class="TestReport">
            <section class="TestReport__Section TestReport__Section--Ads" id="Verdict"><h2>Verdict</h2><p>\(verdict) \(Self.prose2)</p>
            <dl><dt>Pros</dt><dd>Low price</dd><dt>Cons</dt><dd>Loud</dd></dl></section>
            <section class="TestReport__Section TestReport__Section--Ads" id="Test"><h2>The test</h2><p>\(long)</p></section>
            <section class="TestReport__Section TestReport__Section--Ads" id="Price"><h2>The price</h2><p>\(price)</p></section>
            <div class="author-bio"><p>\(bio)</p></div>
            <section class="TestReport__Section TestReport__Section--Ads"><a href="/deals/1">Deals of the week on cranes</a></section>
            </article></body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs.contains("\(verdict) \(Self.prose2)"), "\(article.paragraphs)")
        #expect(article.paragraphs.contains("Loud"))
        #expect(article.paragraphs.contains(long))
        #expect(article.paragraphs.contains(price))
        #expect(!article.text.contains("Anna Berg"))
        #expect(!article.text.contains("Deals of the week"))
    }

    @Test("a footer full of testimonials stays out, though it is long prose")
    func testimonialFooter() throws {
        let body = String(repeating: "<p>\(Self.prose1) \(Self.prose2) \(Self.prose3)</p>", count: 12)
        var quotes = ""
        for i in 0..<30 { quotes += "<blockquote><p>\(Self.prose3) Thank you, reader number \(i)!</p></blockquote>" }
        let html = """
            <html><head><title>Sleep training</title></head><body>
            <div id="site"><main><article><p>\(Self.prose1)</p><p>\(Self.prose2)</p>\(body)</article></main>
            <footer role="contentinfo"><div class="testimonials">\(quotes)</div></footer></div>
            </body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs.first == Self.prose1)
        #expect(!article.text.contains("reader number"))
    }

    @Test("style display:none in any case and spacing hides an element; visibility:hidden does not")
    func styleHidden() throws {
        let html = """
            <html><body><div>
            <p>\(Self.prose1)</p><p style="DISPLAY : None">\(Self.prose2)</p><p style="visibility:hidden">\(Self.prose3)</p>
            </div></body></html>
            """
        let article = try parse(html)
        #expect(article.paragraphs == [Self.prose1, Self.prose3])
    }

    /// A page saved after its scripts ran holds its consent dialog as text, longer here than the
    /// short article under a `subscriber-` class: the lenient pass, which ignores class and id
    /// names, took the dialog for the article (thelocal.dk in the article-extractor set).
    @Test("a consent dialog (role=dialog) is never the article, also when the hints are ignored")
    func consentDialog() throws {
        let html = try Fixture.text("page.consent-dialog.html")
        let article = try parse(html)
        #expect(article.text.hasPrefix("All six container cranes were working again"), "\(article.text.prefix(120))")
        #expect(!article.text.contains("cookies"))
    }
}
