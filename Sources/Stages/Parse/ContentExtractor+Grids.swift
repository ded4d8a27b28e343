/// Pages whose content is a grid of cards: a shop's category page (a picture, a name and a price
/// per product), a gallery, a list of courses or locations. Each card is mostly a link, so the
/// scoring, which looks for prose, passes them over as navigation and keeps a description line,
/// a filter sidebar or the footer instead.
extension ContentExtractor {
    /// The grids of cards on the page, outermost first and none inside another, in document order.
    ///
    /// A grid is an element, not hinted as boilerplate, of at least four children with text, at
    /// least 70% of which are cards (a picture and at most 1,500 characters of text, as a product
    /// tile or a teaser has, unlike the page's columns) and 80% of which share one tag. Menus are
    /// text links without pictures, so they are not grids.
    func cardGrids() -> [Int32] {
        var grids: [Int32] = []
        var end: Int32 = -1
        for index in tree.elements.indices {
            let element = tree.elements[index]
            if element.blockStart < end { continue }
            guard element.boilerplateAncestor < 0, element.firstChild >= 0, element.imageCount >= 4,
                element.textLength >= 200
            else { continue }
            if isCardGrid(element) {
                grids.append(Int32(index))
                end = element.blockEnd
            }
        }
        return grids
    }

    private func isCardGrid(_ element: PageTree.Element) -> Bool {
        var withText = 0
        var cards = 0
        var tags: [Tag: Int] = [:]
        var child = element.firstChild
        var steps = 0
        while child >= 0 && steps < 2000 {
            let item = tree.elements[Int(child)]
            if item.textLength > 0 && item.boilerplateAncestor != child {
                withText += 1
                tags[item.tag, default: 0] += 1
                if item.imageCount >= 1 && item.textLength <= 1500 { cards += 1 }
            }
            child = item.nextSibling
            steps += 1
        }
        let commonest = tags.values.max() ?? 0
        return cards >= 4 && cards * 10 >= withText * 7 && commonest * 10 >= withText * 8
    }

    /// The page's grids of cards as its content, their short lines, links and repeated lines kept
    /// (``collect(roots:strict:listing:keepRepeats:)``), or nil when it has none.
    func gridContent() -> Result? {
        let grids = cardGrids()
        guard !grids.isEmpty else { return nil }
        return collect(roots: grids, strict: true, listing: true, keepRepeats: true)
    }

    /// The grid with the prose paragraphs found outside it (a category's introduction), in page
    /// order; the short lines found outside it (a filter sidebar, a footer) are left out.
    func addingProse(of found: Result, to grid: Result) -> Result {
        guard found.blocks.count == found.paragraphs.count else { return grid }
        var pairs = Array(zip(grid.blocks, grid.paragraphs))
        for (block, text) in zip(found.blocks, found.paragraphs) {
            guard text.scalarCount >= 80 && Self.endsSentence(text) else { continue }
            let inGrid = grid.roots.contains { root in
                let element = tree.elements[Int(root)]
                return block >= Int(element.blockStart) && block < Int(element.blockEnd)
            }
            if !inGrid { pairs.append((block, text)) }
        }
        pairs.sort { $0.0 < $1.0 }
        var merged = grid
        merged.blocks = pairs.map(\.0)
        merged.paragraphs = pairs.map(\.1)
        return merged
    }

    /// Whether a grid's lines show that it sells what its cards show: at least four short lines
    /// with a price, one for every five of its lines or more. A news site's grid of teasers has
    /// headlines, dates and bylines, not prices.
    static func sellsGoods(_ grid: Result) -> Bool {
        let prices = grid.paragraphs.count(where: holdsPrice)
        return prices >= 4 && prices * 5 >= grid.paragraphs.count
    }

    /// Whether a short line (at most 80 bytes) holds an amount of money: a currency sign and a
    /// digit side by side, spaces between them allowed ("$403.00", "€ 12,99", "1.299.000 ₫").
    static func holdsPrice(_ line: String) -> Bool {
        guard line.utf8.count <= 80 else { return false }
        var previous: Unicode.Scalar?
        for scalar in line.unicodeScalars where !scalar.properties.isWhitespace {
            if let previous, isCurrencySign(previous) && isDigit(scalar) || isDigit(previous) && isCurrencySign(scalar) {
                return true
            }
            previous = scalar
        }
        return false
    }

    private static func isCurrencySign(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.generalCategory == .currencySymbol
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x30 && scalar.value <= 0x39
    }

    /// Characters of prose in a result: paragraphs of 80 or more characters that end a sentence.
    /// A filter sidebar or a list of short lines has none; an article is made of it.
    static func proseLength(_ result: Result) -> Int {
        result.paragraphs.reduce(0) { sum, text in
            let length = text.scalarCount
            return length >= 80 && endsSentence(text) ? sum + length : sum
        }
    }
}
