/// Scoring the page's containers and choosing the content's roots: the best container, hoisted
/// or widened to the element that holds the whole article, with its siblings that hold prose.
extension ContentExtractor {
    func priorScore(_ element: PageTree.Element, strict: Bool) -> Double {
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

    func classWeight(_ hints: Hints) -> Double {
        var weight = 0.0
        if !hints.isDisjoint(with: [.boilerplate, .linkList]) || (hints.contains(.furniture) && !hints.contains(.layout)) {
            weight -= 25
        } else if hints.contains(.positive) {
            weight += 12
        }
        if hints.contains(.articleBody) { weight += 25 }
        return weight
    }

    func extract(strict: Bool) -> Result {
        let elements = tree.elements
        guard !elements.isEmpty else { return Result() }
        var scores = [Double](repeating: 0, count: elements.count)
        var touched = [Bool](repeating: false, count: elements.count)
        for block in tree.blocks where Self.votes(block) {
            let own = elements[Int(block.element)]
            if strict && own.boilerplateAncestor >= 0 { continue }
            if !strict && isInDialog(own) { continue }
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
        let roots = titledArticle(among: siblings(of: Int32(best), scores: scores, touched: touched))
        return collect(roots: roots, strict: strict)
    }

    /// Roots that hold several whole `<article>`s, one of them headed by the page's title: an
    /// infinite-scroll page that rendered the next stories below the one asked for (correctiv's
    /// twelve). That one is the content. A page of whole posts none of which is its title (a
    /// blog's home page) keeps them all.
    func titledArticle(among roots: [Int32]) -> [Int32] {
        guard !titleKey.isEmpty else { return roots }
        var articles: [Int32] = []
        for root in roots {
            let depth = tree.elements[Int(root)].depth
            var index = Int(root) + 1
            var end: Int32 = -1  // the blocks' end of the last article found: nested ones are inside it
            while index < tree.elements.count && tree.elements[index].depth > depth {
                let element = tree.elements[index]
                if element.tag == .article && element.blockStart >= end && element.textLength >= 500 && element.linkDensity < 0.3 {
                    articles.append(Int32(index))
                    end = element.blockEnd
                }
                index += 1
            }
        }
        guard articles.count >= 2 else { return roots }
        let titled = articles.filter { article in
            let element = tree.elements[Int(article)]
            return tree.blocks[Int(element.blockStart)..<Int(element.blockEnd)].contains { block in
                block.kind == .heading && block.length <= 300 && block.text.lowercased().collapsingWhitespace() == titleKey
            }
        }
        return titled.count == 1 ? titled : roots
    }

    /// Whether a block is prose that adds to its containers' scores: 25 characters or more, mostly
    /// not links, a paragraph, quote, preformatted run, line or table cell.
    /// - A table's cell votes when it is prose: a sentence, or 100 characters or more. A column of
    ///   titles and scores ("Volleyball. Women's league, 2012/13") is data, which a widget of
    ///   results beside the article holds a great deal of.
    /// - A line with a copyright sign is the site's legal notice or a picture's credit: it does not
    ///   vote (a footer of legal prose outweighed short news).
    static func votes(_ block: PageTree.Block) -> Bool {
        guard block.length >= 25, block.element >= 0, block.linkDensity < 0.5 else { return false }
        switch block.kind {
        case .paragraph, .quote, .preformatted, .line: break
        case .tableCell: if block.length < 100 && !endsSentence(block.text) { return false }
        default: return false
        }
        return !mentionsCopyright(block.text, signOnly: true)
    }

    /// Whether `element` is inside an overlay (``Hints/dialog``), which even the lenient pass that
    /// ignores class and id hints leaves out: up the chain of boilerplate ancestors, a bounded walk.
    func isInDialog(_ element: PageTree.Element) -> Bool {
        var ancestor = element.boilerplateAncestor
        var steps = 0
        while ancestor >= 0 && steps < 64 {
            let candidate = tree.elements[Int(ancestor)]
            if candidate.hints.contains(.dialog) { return true }
            ancestor = candidate.parent >= 0 ? tree.elements[Int(candidate.parent)].boilerplateAncestor : -1
            steps += 1
        }
        return false
    }

    /// Climbs from the best container to an ancestor that adds a good share of prose, mostly prose:
    /// an article whose sections sit in separate wrappers is taken whole.
    func hoist(_ best: Int32, strict: Bool) -> Int32 {
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
    func widenToArticle(_ best: Int32) -> Int32 {
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
    func widenToMain(_ best: Int32) -> Int32 {
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
    /// into sibling parts), take that ancestor. One of them at least must stand beside the best
    /// one: its own wrappers score from its paragraphs, and say nothing of other parts.
    func promoteToCommonAncestor(_ best: Int32, scores: [Double], touched: [Bool]) -> Int32 {
        let top = scores[Int(best)]
        guard top > 0 else { return best }
        var alternatives: [Int32] = []
        for index in tree.elements.indices where touched[index] && Int32(index) != best {
            if scores[index] >= top * 0.75 { alternatives.append(Int32(index)) }
        }
        guard alternatives.count >= 2, alternatives.contains(where: { !isDescendant(best, of: $0) }) else { return best }
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

    func isDescendant(_ element: Int32, of ancestor: Int32) -> Bool {
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
    func siblings(of best: Int32, scores: [Double], touched: [Bool]) -> [Int32] {
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
}
