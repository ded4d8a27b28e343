/// Finds the article's text in a ``PageTree``: readability-style scoring of containers, then a
/// block-by-block cleanup that drops site furniture, link lists and labelled sections.
///
/// 1. Every prose block (≥ 25 characters, mostly not links) scores `1 + commas + min(length/100, 3)`
///    and gives it to its container and, decaying, to up to four more ancestors. A container starts
///    from its tag's prior and its class/id weight; its final score is scaled by `1 - link density`.
/// 2. The best container is taken with those of its siblings that score close to it or hold prose.
/// 3. Inside, blocks under furniture or boilerplate hints, under link-heavy lists, in labelled
///    sections ("Đọc nhiều", "Most read") or that repeat the title are dropped; captions (figcaption,
///    image tables) are set apart for `images`.
/// If strict hints leave almost nothing, the scoring runs again ignoring class/id hints.
///
/// The steps are in three files: this one decides between the ways of finding the content
/// (scored, lenient, the whole `<main>`, streamed segments, hidden text, `<main>` as a listing);
/// `ContentExtractor+Selecting` scores the containers and picks the content's roots (1, 2);
/// `ContentExtractor+Cleaning` collects the blocks under them and drops what is not the article (3).
struct ContentExtractor {
    /// What was found.
    struct Result {
        var paragraphs: [String] = []
        /// Captions with the index (in `tree.images`) of the image they describe, when found.
        var captions: [(image: Int?, text: String)] = []
        /// Indices of the content blocks kept as text.
        var blocks: [Int] = []
        /// The elements whose subtrees were taken as the content.
        var roots: [Int32] = []
        /// A short name line closing the article ("Minh Anh"), taken out of the text.
        var signOff: String?
        var length: Int { paragraphs.reduce(0) { $0 + $1.scalarCount } }
    }

    let tree: PageTree
    let title: String
    /// ``title`` lower-cased with its whitespace collapsed, as headings are compared with it.
    let titleKey: String
    /// Whether the page declares itself an article (JSON-LD, `og:type`); other pages (product,
    /// service, collection pages) take their whole `<main>` when the best block is a small part of it.
    var declaredArticle = true
    /// Whether the page declares a type that is not an article (an `og:type` of `website` or
    /// `product`, JSON-LD without an article): its content may be a grid of cards.
    var declaredOther = false
    /// Whether the page declares a product (JSON-LD `Product` outside a list, `og:type` `product`).
    var declaredProduct = false

    /// Per block, the section label announced by the nearest heading above it (if any).
    private(set) var sections: [Vocabulary.Label?] = []

    init(
        tree: PageTree, title: String, declaredArticle: Bool = true, declaredOther: Bool = false,
        declaredProduct: Bool = false
    ) {
        self.tree = tree
        self.title = title
        self.titleKey = title.lowercased().collapsingWhitespace()
        self.declaredArticle = declaredArticle
        self.declaredOther = declaredOther && !declaredArticle
        self.declaredProduct = declaredProduct && !declaredArticle
        self.sections = Self.labelSections(tree)
    }

    /// Extracts the main text.
    func extract() -> Result {
        // Each way's length is counted once: a result's length walks all of its text.
        var result = extract(strict: true)
        var length = result.length
        func take(_ other: Result, length otherLength: Int) {
            result = other
            length = otherLength
        }
        if length < 250 {
            let lenient = extract(strict: false)
            let lenientLength = lenient.length
            if lenientLength > length { take(lenient, length: lenientLength) }
        }
        // Also, whatever the length, on a page that declares another type than an article or a
        // product (a company's home or service page, whose sections each score low): the whole
        // `<main>` when it holds twice what was found. A product page's `<main>` has reviews,
        // questions and related products around the description, so it is not widened.
        if !declaredArticle && (length < 500 || declaredOther && !declaredProduct), let page = pageFallback() {
            let pageLength = page.length
            if pageLength >= length * 2 { take(page, length: pageLength) }
        }
        // A page that says it is something else than an article (a shop's category page, a
        // gallery), and a grid of cards holding at least 1,500 characters and four times the prose
        // that was found: the grid is the content. (An article's grid of teasers is smaller than
        // the article.) Pages that declare nothing are mostly old articles with teasers beside
        // them; there the grid must show it sells things: its cards carry prices.
        if !declaredArticle, let grid = gridContent(), grid.length >= max(1500, Self.proseLength(result) * 4),
            declaredOther || Self.sellsGoods(grid)
        {
            let widened = addingProse(of: result, to: grid)
            take(widened, length: widened.length)
        }
        if let streamed = streamedSegments() {
            let streamedLength = streamed.length
            if streamedLength >= length * 2 { take(streamed, length: streamedLength) }
        }
        // Little visible, and a block hidden by `display:none` many times as long: a page that
        // shows its content only once a script runs (a product page revealed after loading, an
        // article body shown once the reader's subscription is checked, a teaser above it).
        let hiddenLength = tree.hiddenText.reduce(0) { $0 + $1.scalarCount }
        if length < 600 && hiddenLength >= max(1000, length * 5) {
            result = Self.withoutCopies(tree.hiddenText)
        }
        // "© 2025 WABC-TV. All rights reserved.": the site's legal line, inside the article's
        // container or the only line left on a page whose content scored nothing.
        result.dropRightsNotices()
        // Next to nothing left on a page that is not declared an article: a home page whose
        // `<main>` is only links to its departments. Those links are its content.
        if !declaredArticle, result.length < 100, var main = mainListing(), main.length > result.length {
            main.dropRightsNotices()
            result = main
        }
        return result
    }

    /// Hidden text as a result, with what the visible path leaves out of repeats: a page that
    /// hides its text may hide it twice (a floating copy for small screens), so a long paragraph
    /// is given once, and a run of shorter ones said again is dropped as a copy.
    static func withoutCopies(_ paragraphs: [String]) -> Result {
        var result = Result()
        var repeats = RepeatedLines()
        for text in paragraphs where repeats.admits(text, length: text.scalarCount, at: result.paragraphs.count) {
            result.paragraphs.append(text)
        }
        result.dropCopies(repeats.marked)
        return result
    }

    /// React's streamed server rendering sends the page's parts late, each in its own hidden
    /// `<div id="S:n">` beside the others at the end of `<body>`, while the layout holds only
    /// "Loading…" placeholders. No one segment scores like a whole article, so when the segments
    /// together hold twice the text the layout gave, they are the content, read in order.
    private func streamedSegments() -> Result? {
        var roots: [Int32] = []
        var end: Int32 = 0
        for (index, element) in tree.elements.enumerated() where element.hints.contains(.streamed) {
            // A segment inside one already taken (its blocks are within the taken one's).
            if element.blockStart < end { continue }
            if element.boilerplateAncestor >= 0 { continue }
            roots.append(Int32(index))
            end = element.blockEnd
        }
        guard roots.count >= 2 else { return nil }
        return collect(roots: roots, strict: true)
    }

    /// The page's main landmark (`<main>`, `role=main`) outside boilerplate, if it has one.
    private var mainLandmark: Int32? {
        tree.elements.indices.first {
            tree.elements[$0].hints.contains(.mainLandmark) && tree.elements[$0].boilerplateAncestor < 0
        }.map(Int32.init)
    }

    /// The page's main landmark as a listing (its link lines kept), however many links it holds.
    private func mainListing() -> Result? {
        mainLandmark.map { collect(roots: [$0], strict: true, listing: true) }
    }

    /// A page that is not declared an article and whose best block is short (a landing or service
    /// page made of many small sections, each a line or two): its main landmark (`<main>`,
    /// `role=main`), else its `<body>`, with the usual cleanup (furniture, boilerplate and link
    /// lists out; on a declared home or service page link boxes and lines stay).
    private func pageFallback() -> Result? {
        let body = mainLandmark ?? tree.elements.indices.first { tree.elements[$0].tag == .body }.map(Int32.init)
        guard let body, tree.elements[Int(body)].linkDensity < 0.5 else { return nil }
        // A declared home or service page: its `<main>` is made of sections and cards, links included.
        let sections = declaredOther && !declaredProduct && tree.elements[Int(body)].hints.contains(.mainLandmark)
        return collect(roots: [body], strict: true, listing: sections)
    }
}
