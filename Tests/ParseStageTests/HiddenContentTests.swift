import RunnelProtocol
import Testing

@testable import ParseStage

/// Pages whose content sits in a block hidden with `style="display:none"` until a script shows it.
@Suite("Content hidden until a script runs")
struct HiddenContentTests {
    static let overview = [
        "Our family created these crunchy almond crisps for special occasions and get-togethers, from an old recipe.",
        "The crisps quickly became a requested snack at the office, at school events, on road trips and at parties.",
        "Each batch is baked slowly in small ovens, then sliced thin and toasted again until golden and crisp.",
        "Enjoy them on their own, with cheese, with fruit, or crumbled over yogurt for a crunchy breakfast topping.",
        "Store them in a cool, dry place and close the bag after opening, so that they stay crisp for weeks.",
        "Ingredients: wheat flour, almonds, sugar, dried cranberries, eggs, vanilla and a pinch of cinnamon.",
        "Made in a facility that also processes peanuts, tree nuts, milk, soy and eggs; not a low-calorie food.",
        "Allergen information: contains wheat, almonds and eggs. Kosher certified and made from scratch daily.",
        "Suggested use: serve with coffee or tea, or pack a few in a lunch box for a light snack on the go.",
        "Each serving holds 120 calories and 3 grams of protein, with no added salt and no preservatives.",
    ]

    @Test("a page with next to nothing visible takes the text of its large display:none block")
    func hiddenProductIsTaken() throws {
        let html = """
            <html><head><title>Almond thins</title></head><body>
            <header class="site-header"><a href="/">Home</a> <a href="/cart">Cart</a></header>
            <div class="wrapper" style="display: none"><article><h1>Almond thins</h1><div class="overview">
            \(Self.overview.map { "<p>\($0)</p>" }.joined())</div></article></div>
            <div style="display:none"><p>A short hidden note that is not the product.</p></div>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://shop.example.com/p/1")
        for line in Self.overview { #expect(article.paragraphs.contains(line)) }
        #expect(!article.text.contains("short hidden note"))
    }

    /// A paywalled article page saved as served: a teaser and "sign up to continue" are visible,
    /// the article body waits under `display:none` for the subscription check.
    @Test("a visible teaser gives way to the hidden article body many times its length")
    func hiddenBodyUnderTeaser() throws {
        let body = (0..<16).map { "Paragraph \($0) of the hidden article body, which the site shows once it has checked the reader's subscription, with a comma." }
        let html = """
            <html><head><title>The letter ø</title></head><body>
            <h1>The letter ø</h1>
            <p>It might look quintessentially Danish, but the letter ø is far from unique to the national language.</p>
            <p>It has a longer history than you might imagine, reaching back to medieval scribes and their abbreviations.</p>
            <p>Please sign up or log in to continue reading.</p>
            <div id="articleBody" style="display: none">\(body.map { "<p>\($0)</p>" }.joined())</div>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.com/o")
        #expect(article.paragraphs == body)
    }

    @Test("a page whose visible text is an article keeps it and leaves display:none blocks out")
    func visibleArticleWins() throws {
        let prose = (0..<6).map { "Visible paragraph \($0) of the story, long enough to count as prose, with a comma, and an end." }
        let html = """
            <html><head><title>Story</title></head><body>
            <article>\(prose.map { "<p>\($0)</p>" }.joined())</article>
            <div class="modal" style="display:none">\(Self.overview.map { "<p>\($0)</p>" }.joined())</div>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://news.example.com/story")
        for line in prose { #expect(article.paragraphs.contains(line)) }
        #expect(!article.text.contains("almond crisps"))
    }

    @Test("a hidden block that is mostly links (a menu) is not taken")
    func hiddenMenuIsNotTaken() throws {
        let links = (0..<40).map { "<li><a href=\"/c\($0)\">Category number \($0) of the store</a></li>" }.joined()
        let html = """
            <html><head><title>Store</title></head><body><p>Welcome.</p>
            <div class="menu" style="display:none"><ul>\(links)</ul></div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://shop.example.com/")
        #expect(!article.text.contains("Category number"))
    }

    /// An accordion (WAI-ARIA's pattern: each header a heading holding a button that controls its
    /// panel) hides its closed panels with `aria-hidden`; they are the page's content, which the
    /// reader opens. A block hidden with `aria-hidden` that no header controls stays out.
    @Test("the closed panels of an accordion are content; other aria-hidden blocks are not")
    func accordionPanels() throws {
        let answers = (0..<4).map { "Answer \($0) to the question, long enough to be prose the reader came for, with a comma, and an end." }
        let panels = answers.enumerated().map { index, answer in
            """
            <h3><button aria-controls="answer-\(index)" aria-expanded="false">Question \(index)?</button></h3>
            <div id="answer-\(index)" aria-hidden="true"><p>\(answer)</p></div>
            """
        }
        let html = """
            <html><head><title>Questions</title></head><body>
            <h1>Frequently asked questions</h1>
            <div class="faq">\(panels.joined())
            <h3>Question 5?</h3><div hidden="until-found"><p>A panel the browser's find opens, long enough to be prose, with a comma, and an end.</p></div>
            <div id="answer-9" aria-hidden="true"><p>A decorative block hidden from readers, with a comma, that is long enough.</p></div>
            <div hidden><p>A block hidden outright, long enough to be prose, with a comma, and an end to it.</p></div>
            </div>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://bank.example.com/faq")
        for answer in answers { #expect(article.paragraphs.contains(answer)) }
        #expect(!article.text.contains("decorative block"))
        #expect(!article.text.contains("hidden outright"))
        #expect(article.text.contains("find opens"))
    }

    /// A disclosure (WAI-ARIA's pattern: a control with `aria-expanded=false`, then the block it
    /// shows) hides its panel with `aria-hidden`, often with a class as well. The block right after
    /// such a control is content; one after an open control, one with another element between,
    /// and one after a control in the page's navigation are not.
    @Test("the closed panel right after a collapsed toggle is content, outside the navigation")
    func disclosurePanels() throws {
        let method = "The calculator simulates five thousand market trials, with returns drawn from the assumed mix, and reports the median."
        let html = """
            <html><head><title>Retirement calculator</title></head><body>
            <main><nav><button aria-expanded="false">Menu</button></nav><div aria-hidden="true"><p>Menu prose about our offers, long enough, with a comma, and an end.</p></div>
            <h1>Personal retirement calculator</h1>
            <p>Estimate how your savings and future contributions may help meet your needs in retirement, with a few questions.</p>
            <div><a href="javascript:void(0);" class="show-hide-open" aria-expanded="false">Methodology<span>Expand the details</span></a></div>
            <div id="methods" class="hide" aria-hidden="true"><h4>How the calculator works</h4><p>\(method)</p></div>
            <button aria-expanded="true">Close</button><div aria-hidden="true"><p>A block after an open control, long enough to be prose, with a comma.</p></div>
            <button aria-expanded="false">Share</button><p>Between the two.</p><div aria-hidden="true"><p>A block after another element, long enough, with a comma, and an end.</p></div>
            </main></body></html>
            """
        let article = try Fixture.parse(html, url: "https://bank.example.com/calculator")
        #expect(article.paragraphs.contains(method))
        #expect(!article.text.contains("Menu prose"))
        #expect(!article.text.contains("after an open control"))
        #expect(!article.text.contains("after another element"))
    }
}
