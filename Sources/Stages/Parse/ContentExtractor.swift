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
        var length: Int { paragraphs.reduce(0) { $0 + $1.unicodeScalars.count } }
    }

    let tree: PageTree
    let title: String
    /// Whether the page declares itself an article (JSON-LD, `og:type`); other pages (product,
    /// service, collection pages) take their whole `<main>` when the best block is a small part of it.
    var declaredArticle = true

    /// Per block, the section label announced by the nearest heading above it (if any).
    private(set) var sections: [Vocabulary.Label?] = []

    init(tree: PageTree, title: String, declaredArticle: Bool = true) {
        self.tree = tree
        self.title = title
        self.declaredArticle = declaredArticle
        self.sections = Self.labelSections(tree)
    }

    /// Extracts the main text.
    func extract() -> Result {
        var result = extract(strict: true)
        if result.length < 250 {
            let lenient = extract(strict: false)
            if lenient.length > result.length { result = lenient }
        }
        if !declaredArticle && result.length < 500, let page = pageFallback(), page.length >= result.length * 2 {
            result = page
        }
        if let streamed = streamedSegments(), streamed.length >= result.length * 2 {
            result = streamed
        }
        // Next to nothing visible, and a large block hidden by `display:none`: a page that shows
        // its content only once a script runs (a product page revealed after loading).
        let hiddenLength = tree.hiddenText.reduce(0) { $0 + $1.unicodeScalars.count }
        if result.length < 200 && hiddenLength >= 1000 {
            result = Result(paragraphs: tree.hiddenText)
        }
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

    /// A page that is not declared an article and whose best block is short (a landing or service
    /// page made of many small sections, each a line or two): its `<main>`, else its `<body>`, with
    /// the usual cleanup (furniture, boilerplate and link lists out).
    private func pageFallback() -> Result? {
        var body: Int32 = -1
        for (index, element) in tree.elements.enumerated() {
            if element.tag == .main && element.boilerplateAncestor < 0 { body = Int32(index); break }
            if element.tag == .body && body < 0 { body = Int32(index) }
        }
        guard body >= 0, tree.elements[Int(body)].linkDensity < 0.5 else { return nil }
        return collect(roots: [body], strict: true)
    }

    // MARK: Scoring

    private func priorScore(_ element: PageTree.Element, strict: Bool) -> Double {
        var score: Double
        switch element.tag {
        case .div, .article, .main, .custom: score = 5
        case .pre, .td, .blockquote: score = 3
        case .address, .ol, .ul, .dl, .dd, .dt, .li, .form: score = -3
        case .h1, .h2, .h3, .h4, .h5, .h6, .th: score = -5
        default: score = 0
        }
        if strict { score += classWeight(element.hints) }
        return score
    }

    private func classWeight(_ hints: Hints) -> Double {
        var weight = 0.0
        if !hints.isDisjoint(with: [.boilerplate, .linkList]) || (hints.contains(.furniture) && !hints.contains(.layout)) {
            weight -= 25
        } else if hints.contains(.positive) {
            weight += 12
        }
        if hints.contains(.articleBody) { weight += 25 }
        return weight
    }

    private func extract(strict: Bool) -> Result {
        let elements = tree.elements
        guard !elements.isEmpty else { return Result() }
        var scores = [Double](repeating: 0, count: elements.count)
        var touched = [Bool](repeating: false, count: elements.count)
        for block in tree.blocks {
            guard block.length >= 25, block.element >= 0, block.linkDensity < 0.5 else { continue }
            switch block.kind {
            case .paragraph, .quote, .preformatted, .tableCell, .line: break
            default: continue
            }
            let own = elements[Int(block.element)]
            if strict && own.boilerplateAncestor >= 0 { continue }
            let contentScore = 1 + Double(block.commas) + min(Double(block.length / 100), 3)
            // A `p` (or a div holding one run of text) is the paragraph: its parent is level 0.
            // A container with text of its own among other children holds the paragraph itself.
            var ancestor: Int32
            switch own.tag {
            case .p, .pre, .td, .blockquote, .li, .dd, .caption, .figcaption: ancestor = own.parent
            default:
                ancestor = (own.firstChild < 0 && own.blockEnd - own.blockStart == 1) ? own.parent : block.element
            }
            var level = 0
            while ancestor >= 0 && level < 5 {
                let index = Int(ancestor)
                if !touched[index] {
                    touched[index] = true
                    scores[index] = priorScore(elements[index], strict: strict)
                }
                let divider: Double = level == 0 ? 1 : (level == 1 ? 2 : Double(level) * 3)
                scores[index] += contentScore / divider
                ancestor = elements[index].parent
                level += 1
            }
        }
        var best = -1
        var bestScore = -Double.infinity
        for index in elements.indices where touched[index] {
            scores[index] *= 1 - elements[index].linkDensity
            if scores[index] > bestScore {
                bestScore = scores[index]
                best = index
            }
        }
        guard best >= 0 else { return Result() }
        best = Int(promoteToCommonAncestor(Int32(best), scores: scores, touched: touched))
        best = Int(hoist(Int32(best), strict: strict))
        if !declaredArticle { best = Int(widenToMain(Int32(best))) }
        best = Int(widenToArticle(Int32(best)))
        let roots = siblings(of: Int32(best), scores: scores, touched: touched)
        return collect(roots: roots, strict: strict)
    }

    /// Climbs from the best container to an ancestor that adds a good share of prose, mostly prose:
    /// an article whose sections sit in separate wrappers is taken whole.
    private func hoist(_ best: Int32, strict: Bool) -> Int32 {
        // Prefix sums of prose over blocks: the prose of an element is a difference of two.
        var prefix = [Int](repeating: 0, count: tree.blocks.count + 1)
        for (index, block) in tree.blocks.enumerated() {
            var prose = 0
            if block.length >= 40 && block.linkDensity < 0.3 && block.element >= 0 {
                switch block.kind {
                case .paragraph, .quote, .listItem, .preformatted, .tableCell, .line:
                    if !strict || tree.elements[Int(block.element)].boilerplateAncestor < 0 { prose = Int(block.length) }
                default: break
                }
            }
            prefix[index + 1] = prefix[index] + prose
        }
        func prose(_ e: PageTree.Element) -> Int { prefix[Int(e.blockEnd)] - prefix[Int(e.blockStart)] }
        var chosen = best
        var current = tree.elements[Int(best)]
        var cursor = current.parent
        var steps = 0
        while cursor >= 0 && steps < 8 {
            let candidate = tree.elements[Int(cursor)]
            if candidate.tag == .body || candidate.tag == .html { break }
            if strict && candidate.hints.excludesText && candidate.boilerplateAncestor == cursor { break }
            let gain = prose(candidate) - prose(current)
            let addedText = Int(candidate.textLength - current.textLength)
            let addedLinks = Int(candidate.linkLength - current.linkLength)
            // Pages that are not declared articles (services, products) take looser prose.
            let proseShare = declaredArticle ? 2 : 3
            if gain * 5 >= prose(current) && gain * proseShare >= addedText && addedLinks * 6 < addedText
                && candidate.linkDensity < 0.3
            {
                chosen = cursor
                current = candidate
            } else if addedText > 2000 {
                break
            }
            cursor = candidate.parent
            steps += 1
        }
        return chosen
    }

    /// The `<article>` (or `itemprop=articleBody` element) around the best container, when it is
    /// not a box of links: the page says that is the article.
    private func widenToArticle(_ best: Int32) -> Int32 {
        var cursor = tree.elements[Int(best)].parent
        var steps = 0
        while cursor >= 0 && steps < 12 {
            let element = tree.elements[Int(cursor)]
            if element.tag == .body { break }
            if element.tag == .article || element.hints.contains(.articleBody) {
                return element.linkDensity < 0.3 && !element.hints.excludesText ? cursor : best
            }
            cursor = element.parent
            steps += 1
        }
        return best
    }

    /// The page's `<main>` around the best container, when the container holds only a small part of
    /// it and `<main>` is not a box of links.
    private func widenToMain(_ best: Int32) -> Int32 {
        var cursor = tree.elements[Int(best)].parent
        var steps = 0
        while cursor >= 0 && steps < 16 {
            let element = tree.elements[Int(cursor)]
            if element.tag == .main {
                let small = tree.elements[Int(best)].textLength * 10 < element.textLength * 3
                return small && element.linkDensity < 0.35 ? cursor : best
            }
            cursor = element.parent
            steps += 1
        }
        return best
    }

    /// When several strong candidates share an ancestor close above the best one (an article split
    /// into sibling parts), take that ancestor.
    private func promoteToCommonAncestor(_ best: Int32, scores: [Double], touched: [Bool]) -> Int32 {
        let top = scores[Int(best)]
        guard top > 0 else { return best }
        var alternatives: [Int32] = []
        for index in tree.elements.indices where touched[index] && Int32(index) != best {
            if scores[index] >= top * 0.75 { alternatives.append(Int32(index)) }
        }
        guard alternatives.count >= 2 else { return best }
        var ancestor = tree.elements[Int(best)].parent
        var steps = 0
        while ancestor >= 0 && steps < 6 {
            if tree.elements[Int(ancestor)].tag == .body { break }
            var contained = 0
            for alternative in alternatives where isDescendant(alternative, of: ancestor) { contained += 1 }
            if contained >= 2 { return ancestor }
            ancestor = tree.elements[Int(ancestor)].parent
            steps += 1
        }
        return best
    }

    private func isDescendant(_ element: Int32, of ancestor: Int32) -> Bool {
        let a = tree.elements[Int(ancestor)]
        let e = tree.elements[Int(element)]
        guard e.depth > a.depth, element > ancestor else { return false }
        var cursor = e.parent
        var steps = 0
        while cursor >= 0 && steps < 256 {
            if cursor == ancestor { return true }
            if tree.elements[Int(cursor)].depth <= a.depth { return false }
            cursor = tree.elements[Int(cursor)].parent
            steps += 1
        }
        return false
    }

    /// The best container and those of its siblings that belong to the article.
    private func siblings(of best: Int32, scores: [Double], touched: [Bool]) -> [Int32] {
        let parent = tree.elements[Int(best)].parent
        guard parent >= 0 else { return [best] }
        let threshold = max(10, scores[Int(best)] * 0.2)
        var roots: [Int32] = []
        var child = tree.elements[Int(parent)].firstChild
        var count = 0
        while child >= 0 && count < 5000 {
            let element = tree.elements[Int(child)]
            var include = child == best
            if !include && element.boilerplateAncestor != child {
                if touched[Int(child)] && scores[Int(child)] >= threshold {
                    include = true
                } else if element.tag == .p || (element.firstChild < 0 && element.blockEnd - element.blockStart == 1) {
                    let length = element.textLength
                    let density = element.linkDensity
                    if length > 80 && density < 0.25 {
                        include = true
                    } else if length > 0 && length <= 80 && density == 0, element.blockEnd > element.blockStart {
                        let text = tree.blocks[Int(element.blockEnd - 1)].text
                        include = text.hasSuffix(".") || text.contains(". ")
                    }
                }
            }
            if include { roots.append(child) }
            child = element.nextSibling
            count += 1
        }
        return roots.isEmpty ? [best] : roots
    }

    // MARK: Collecting

    /// Whether an element below the content root is furniture by its shape: a list or box of links.
    private func isLinkHeavy(_ element: PageTree.Element, strict: Bool) -> Bool {
        // A form inside the content (sign-up, "request our ebook") is labels, not prose; a page
        // wrapped whole in a form (ASP.NET) has it above the root, where this is not asked.
        if element.tag == .form && element.textLength < 3000 { return true }
        switch element.tag {
        case .div, .section, .table, .tbody, .tr, .aside, .form, .custom, .nav, .menu, .header,
            .footer, .p, .center, .other, .td:
            break
        default:
            return false
        }
        let density = element.linkDensity
        if element.textLength == 0 { return false }
        if density > 0.5 { return true }
        if strict && classWeight(element.hints) < 0 && density > 0.2 { return true }
        return false
    }

    private func collect(roots: [Int32], strict: Bool) -> Result {
        var result = Result()
        result.roots = roots
        let titleKey = title.lowercased().collapsingWhitespace()
        var linkHeavy: [Int32: Bool] = [:]
        var skippingLabel: Vocabulary.Label?
        // Pages that repeat their article (desktop and mobile copies, tabs) give each paragraph once.
        var seen = Set<String>()
        for root in roots {
            let rootElement = tree.elements[Int(root)]
            var index = Int(rootElement.blockStart)
            while index < Int(rootElement.blockEnd) {
                defer { index += 1 }
                let block = tree.blocks[index]
                let element = tree.elements[Int(block.element)]
                // Furniture and boilerplate hinted below the root.
                // (Also when hints were ignored for choosing the root: the root may sit inside a
                // hinted wrapper, but hinted parts below it — comments, share bars — stay out.)
                if element.boilerplateAncestor >= 0,
                    tree.elements[Int(element.boilerplateAncestor)].depth > rootElement.depth
                    || (element.boilerplateAncestor == root && roots.count > 1)
                {
                    continue
                }
                // Link-heavy containers between the block and the root.
                var cursor = block.element
                var heavy = false
                var steps = 0
                while cursor >= 0 && cursor != root && steps < 64 {
                    if let known = linkHeavy[cursor] {
                        if known { heavy = true; break }
                    } else {
                        let value = isLinkHeavy(tree.elements[Int(cursor)], strict: strict)
                        linkHeavy[cursor] = value
                        if value { heavy = true; break }
                    }
                    cursor = tree.elements[Int(cursor)].parent
                    steps += 1
                }
                if heavy { continue }

                let text = block.text
                let headingLike = block.kind == .heading || (block.length <= 40 && !Self.endsSentence(text))
                if let label = Vocabulary.label(of: text) {
                    if headingLike { skippingLabel = label }
                    continue
                }
                if skippingLabel != nil {
                    if block.kind == .heading {
                        skippingLabel = nil
                    } else if block.length >= 100 && block.linkDensity < 0.3 && Self.endsSentence(text) {
                        skippingLabel = nil
                    } else {
                        continue
                    }
                }
                if isCaption(block, index: index) {
                    result.captions.append((image(forCaptionAt: index, element: block.element), text))
                    continue
                }
                if block.kind == .heading && (block.headingLevel == 1 || text.lowercased().collapsingWhitespace() == titleKey) {
                    continue
                }
                if block.linkDensity > 0.5 && block.length < 300 && block.kind != .listItem { continue }
                if block.length < 2 { continue }
                if block.length >= 10 && !seen.insert(text).inserted { continue }
                result.paragraphs.append(text)
                result.blocks.append(index)
            }
        }
        if result.paragraphs.count >= 3, let last = result.paragraphs.last, Self.isSignOff(last) {
            result.signOff = result.paragraphs.removeLast()
            result.blocks.removeLast()
        }
        return result
    }

    /// Whether a block is an image caption: a figcaption or caption-hinted element, or short text
    /// in a figure or table that holds an image and little else.
    func isCaption(_ block: PageTree.Block, index: Int) -> Bool {
        if block.kind == .caption { return true }
        guard block.length < 400 else { return false }
        var cursor = block.element
        var steps = 0
        while cursor >= 0 && steps < 6 {
            let element = tree.elements[Int(cursor)]
            if element.hints.contains(.caption) { return true }
            if element.tag == .figure || element.tag == .table {
                return element.imageCount > 0 && element.textLength < 500
                    && element.imageCount <= 3 && element.blockEnd - element.blockStart <= 4
            }
            cursor = element.parent
            steps += 1
        }
        return false
    }

    /// The image a caption belongs to: the nearest one before it in the same figure or table,
    /// else the nearest one after it.
    func image(forCaptionAt index: Int, element: Int32) -> Int? {
        var container = element
        var steps = 0
        while container >= 0 && steps < 6 {
            let e = tree.elements[Int(container)]
            if e.imageCount > 0 { break }
            container = e.parent
            steps += 1
        }
        guard container >= 0 else { return nil }
        let scope = tree.elements[Int(container)]
        var candidate: Int?
        for (i, image) in tree.images.enumerated()
        where image.blockPosition >= scope.blockStart && image.blockPosition <= scope.blockEnd {
            if image.blockPosition <= Int32(index) || candidate == nil { candidate = i }
            if image.blockPosition > Int32(index) { break }
        }
        return candidate
    }

    /// A closing line that is only a name: at most four words of letters, no sentence punctuation.
    static func isSignOff(_ text: String) -> Bool {
        let words = text.split(separator: " ")
        guard (1...4).contains(words.count), text.unicodeScalars.count <= 40 else { return false }
        return text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == " " || $0 == "." || $0 == "-" }
            && words.allSatisfy { $0.first?.isUppercase == true }
    }

    static func endsSentence(_ text: String) -> Bool {
        guard let last = text.unicodeScalars.last else { return false }
        return ".!?…。！？\"”»'’:;)".unicodeScalars.contains(last)
    }

    /// Labels each block with the section label of the nearest heading-like label above it.
    private static func labelSections(_ tree: PageTree) -> [Vocabulary.Label?] {
        var labels: [Vocabulary.Label?] = []
        labels.reserveCapacity(tree.blocks.count)
        var current: Vocabulary.Label?
        for block in tree.blocks {
            let headingLike = block.kind == .heading || (block.length <= 40 && !endsSentence(block.text))
            if headingLike, block.length <= 48, let label = Vocabulary.label(of: block.text) {
                current = label
                labels.append(nil)
                continue
            }
            if block.kind == .heading { current = nil }
            labels.append(current)
        }
        return labels
    }
}
