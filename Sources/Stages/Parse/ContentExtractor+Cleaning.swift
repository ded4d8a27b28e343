#if canImport(Glibc)
import Glibc
#endif

/// Collecting the blocks under the content's roots and dropping what is not the article: site
/// furniture, link lists, forms, labelled sections ("Most read"), the title repeated; captions set
/// apart for the images, and a closing sign-off taken out.
extension ContentExtractor {
    /// A repeated paragraph this long (prose, not a label or a value) is a copy of the text,
    /// dropped wherever it stands.
    static var longRepeat: Int { 80 }

    /// The cell (`td`, `th`) a block of text sits in and the row (`tr`) it belongs to, when the
    /// text is the cell's own: held by the cell, or by one short paragraph that is all the cell
    /// holds (`<th>Weight</th><td><p>1 lb.</p></td>`). A cell holding several paragraphs or
    /// divs is layout, not data.
    func tableCell(of block: PageTree.Block) -> (cell: Int32, row: Int32)? {
        guard block.element >= 0 else { return nil }
        var index = block.element
        if block.kind == .paragraph {
            let paragraph = tree.elements[Int(index)]
            guard block.length <= 200, paragraph.parent >= 0, paragraph.nextSibling < 0 else { return nil }
            let holder = tree.elements[Int(paragraph.parent)]
            guard holder.firstChild == index, holder.textLength == paragraph.textLength else { return nil }
            index = paragraph.parent
        }
        let cell = tree.elements[Int(index)]
        guard cell.tag == .td || cell.tag == .th, cell.parent >= 0, tree.elements[Int(cell.parent)].tag == .tr else { return nil }
        return (index, cell.parent)
    }

    /// Whether an element below the content root is furniture by its shape: a list or box of links.
    func isLinkHeavy(_ element: PageTree.Element, strict: Bool) -> Bool {
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

    /// The blocks under `roots` that belong to the content.
    /// - Parameters:
    ///   - listing: the roots are grids, lists or sections of cards that are the page's content:
    ///     their link lines, link boxes and captions are kept; boilerplate hints still apply.
    ///   - keepRepeats: lines the page repeats ("Add to cart" on every card) are kept each time;
    ///     otherwise a line of 10+ characters is given once.
    func collect(roots: [Int32], strict: Bool, listing: Bool = false, keepRepeats: Bool = false) -> Result {
        var result = Result()
        result.roots = roots
        // Per element, whether it is link-heavy: 0 not known yet, 1 no, 2 yes.
        var linkHeavy = [UInt8](repeating: 0, count: tree.elements.count)
        var skippingLabel: Vocabulary.Label?
        var repeats = RepeatedLines()
        // The table cell the last paragraph ends with: the cells of one row make one line.
        var lastCell: (cell: Int32, row: Int32)?
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
                var cursor = listing ? root : block.element
                var heavy = false
                var steps = 0
                while cursor >= 0 && cursor != root && steps < 64 {
                    // A body the page marks (`itemprop=articleBody`, a post's `itemprop=text`) is
                    // text however many links it holds or the card around it holds (a thread's
                    // opening post that lists other threads, under a box of related ones): its
                    // lines of links alone are dropped, below.
                    let at = Int(cursor)
                    if tree.elements[at].hints.contains(.articleBody) { break }
                    if linkHeavy[at] == 0 { linkHeavy[at] = isLinkHeavy(tree.elements[at], strict: strict) ? 2 : 1 }
                    if linkHeavy[at] == 2 {
                        heavy = true
                        break
                    }
                    cursor = tree.elements[at].parent
                    steps += 1
                }
                if heavy { continue }

                let text = block.text
                let cell = block.kind == .tableCell || block.kind == .paragraph ? tableCell(of: block) : nil
                let headingLike = block.kind == .heading || (block.length <= 40 && !Self.endsSentence(text))
                // A table's cells are data, however short: "Share" heading a column is no share bar.
                if !listing, cell == nil, let label = Vocabulary.label(of: text) {
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
                if !listing && isCaption(block, index: index) {
                    result.captions.append((image(forCaptionAt: index, element: block.element), text))
                    continue
                }
                if block.kind == .heading && (block.headingLevel == 1 || text.lowercased().collapsingWhitespace() == titleKey) {
                    continue
                }
                if !listing && block.linkDensity > 0.5 && block.length < 300 && block.kind != .listItem { continue }
                // A teaser of another page after the text: a few lines that end "… Weiterlesen" or
                // "Read more". (First, it is what the page shows of its own text: kept.)
                if !listing && !result.paragraphs.isEmpty && block.length <= 400 && Vocabulary.endsWithReadMore(text) { continue }
                if let cell {
                    // Rows kept whole: a cell joins the line of the cell before it in its row
                    // (a second run of text in one cell joins it with a space), and a cell's value
                    // is kept however short, and each time a column repeats it.
                    if let last = lastCell, last.row == cell.row, !result.paragraphs.isEmpty {
                        result.paragraphs[result.paragraphs.count - 1] += (last.cell == cell.cell ? " " : " | ") + text
                        lastCell = cell
                        continue
                    }
                    lastCell = cell
                    result.paragraphs.append(text)
                    result.blocks.append(index)
                    continue
                }
                if block.length < 2 { continue }
                // A link said again ("Learn more" under each card) is navigation, not text.
                if !keepRepeats && !repeats.admits(text, length: Int(block.length), isLink: block.linkDensity > 0.5, at: result.paragraphs.count) {
                    continue
                }
                lastCell = nil
                result.paragraphs.append(text)
                result.blocks.append(index)
            }
        }
        result.dropCopies(repeats.marked)
        // (A listing's last line is its last item, not a name signing it.)
        if !listing, result.paragraphs.count >= 3, let last = result.paragraphs.last, Self.isSignOff(last) {
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
        // Forty scalars are at most 160 bytes: a longer paragraph is not split into words.
        guard text.utf8.count <= 160 else { return false }
        let words = text.split(separator: " ")
        guard (1...4).contains(words.count), text.scalarCount <= 40 else { return false }
        return text.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || $0 == " " || $0 == "." || $0 == "-" }
            && words.allSatisfy { $0.first?.isUppercase == true }
    }

    /// A copyright or rights notice ("Copyright © 2025 WABC-TV. All Rights Reserved."): the site's
    /// legal line, never the text, wherever the page puts it (inside the article's container, or
    /// as the only line left on a page whose content scored nothing).
    static func isRightsNotice(_ text: String) -> Bool {
        guard text.utf8.count <= 1200, mentionsCopyright(text), text.scalarCount <= 300 else { return false }
        let lower = text.lowercased()
        return Vocabulary.rightsReserved.contains { lower.contains($0) }
    }

    private static let copyright = Array("copyright".utf8)

    /// Whether `text` holds "©" or, unless `signOnly`, "copyright" in any case. `memchr` finds
    /// the candidates (the second byte of "©", each "y"), so a paragraph costs no byte-by-byte
    /// loop of its own.
    static func mentionsCopyright(_ text: String, signOnly: Bool = false) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { bytes in
            guard let base = bytes.baseAddress else { return false }
            func each(_ target: UInt8, _ body: (Int) -> Bool) -> Bool {
                var from = 0
                while from < bytes.count, let hit = memchr(base + from, Int32(target), bytes.count - from) {
                    let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                    if body(at) { return true }
                    from = at + 1
                }
                return false
            }
            // "©" is C2 A9.
            if each(0xA9, { $0 > 0 && bytes[$0 - 1] == 0xC2 }) { return true }
            if signOnly { return false }
            // "copyright": its "y" is the fourth byte.
            let isWord = { (y: Int) -> Bool in
                guard y >= 3, y + 5 < bytes.count else { return false }
                return copyright.indices.allSatisfy { k in
                    let byte = bytes[y - 3 + k]
                    return (byte &- 0x41 < 26 ? byte | 0x20 : byte) == copyright[k]
                }
            }
            return each(0x79, isWord) || each(0x59, isWord)
        } ?? false
    }

    static func endsSentence(_ text: String) -> Bool {
        guard let last = text.unicodeScalars.last else { return false }
        // A switch, not `contains` over a literal's scalars (~450 instructions a line).
        switch last {
        case ".", "!", "?", "…", "。", "！", "？", "\"", "”", "»", "'", "’", ":", ";", ")": return true
        default: return false
        }
    }

    /// Labels each block with the section label of the nearest heading-like label above it.
    static func labelSections(_ tree: PageTree) -> [Vocabulary.Label?] {
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

extension ContentExtractor.Result {
    /// Drops the paragraphs that are a rights notice (``ContentExtractor/isRightsNotice(_:)``).
    mutating func dropRightsNotices() {
        let drop = Set(paragraphs.indices.filter { ContentExtractor.isRightsNotice(paragraphs[$0]) })
        guard !drop.isEmpty else { return }
        // `blocks` names the block of each paragraph, when every paragraph came from one.
        if blocks.count == paragraphs.count {
            blocks = blocks.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        }
        paragraphs = paragraphs.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }

    /// Drops the repeated paragraphs (at `repeats`) that stand next to another repeat: a run of
    /// them is a second copy of part of the text (a mobile layout, a tab). A repeat between new
    /// paragraphs is a line the page itself says again, and stays.
    mutating func dropCopies(_ repeats: Set<Int>) {
        let drop = repeats.filter { repeats.contains($0 - 1) || repeats.contains($0 + 1) }
        guard !drop.isEmpty else { return }
        paragraphs = paragraphs.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
        blocks = blocks.enumerated().filter { !drop.contains($0.offset) }.map(\.element)
    }
}

/// The lines a result has taken, to tell a second copy of the text from a line the page says
/// again: pages that repeat their article (desktop and mobile copies, tabs) give each paragraph
/// once, and a short line a page repeats on its own ("Pros & Cons" over each product) is kept.
struct RepeatedLines {
    /// Room for a page's lines from the start: growing a set hashes every line again.
    private var seen = Set<TextKey>(minimumCapacity: 64)
    /// The paragraphs that repeat a short line, for ``ContentExtractor/Result/dropCopies(_:)``.
    private(set) var marked = Set<Int>()

    /// Whether `text`, `length` scalars, is taken as paragraph `index`: not when it repeats a
    /// long line or is a link said again; a short line said again is taken and marked.
    mutating func admits(_ text: String, length: Int, isLink: Bool = false, at index: Int) -> Bool {
        guard length >= 10, !seen.insert(TextKey(text)).inserted else { return true }
        if length >= ContentExtractor.longRepeat || isLink { return false }
        marked.insert(index)
        return true
    }
}

/// A paragraph's text as a set member, hashed and compared by its UTF-8 bytes. String's own
/// hashing and equality go by canonical equivalence, a normalization check over every byte of
/// text that is not ASCII; the fetch stage has already put the page in NFC.
struct TextKey: Hashable {
    let text: String

    init(_ text: String) { self.text = text }

    static func == (a: TextKey, b: TextKey) -> Bool {
        guard a.text.utf8.count == b.text.utf8.count else { return false }
        var a = a.text
        var b = b.text
        return a.withUTF8 { a in b.withUTF8 { b in a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 } }
    }

    /// Hashes the length and at most the first and last 32 bytes: two paragraphs that agree
    /// there are rare, and `==` tells them apart. Hashing every byte of every paragraph was
    /// a sixtieth of parse's time.
    func hash(into hasher: inout Hasher) {
        var text = text
        text.withUTF8 { bytes in
            hasher.combine(bytes.count)
            guard bytes.count > 64 else { return hasher.combine(bytes: UnsafeRawBufferPointer(bytes)) }
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[..<32])))
            hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[(bytes.count - 32)...])))
        }
    }
}
