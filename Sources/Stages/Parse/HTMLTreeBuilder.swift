import CLibXML2
import Glibc
import RunnelProtocol

/// Parses HTML and reduces it to a ``PageTree``: with ``TreeConstruction/html5``, by gumbo, which
/// builds the tree the way a browser does (``HTML5TreeConstruction``); with
/// ``TreeConstruction/libxml2`` (the stage's default), by libxml2's HTML parser.
///
/// libxml2's HTML parser runs in SAX mode: it reports element starts, ends and text (with its
/// error recovery and implied/auto-closed elements, the same structure its DOM would have), and
/// the walker builds the tree from those events. No libxml2 DOM is built or freed, which was half
/// of libxml2's cost per page, and a document nested ten thousand levels deep costs memory (the
/// walker's stack of open elements), not call stack.
struct HTMLTreeBuilder {
    /// libxml2 options: recover from errors, print nothing, never touch the network.
    static let parseOptions = Int32(
        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// The SAX callbacks: each finds the walker through the parser context's `_private`. (Made per
    /// page: a C struct of function pointers is not `Sendable`, so it cannot be a shared constant.)
    private static func makeHandler() -> htmlSAXHandler {
        var sax = htmlSAXHandler()
        sax.startElement = { context, name, attributes in
            guard let walker = Walker.from(context), let name else { return }
            walker.pointee.start(name, attributes)
        }
        sax.endElement = { context, _ in
            Walker.from(context)?.pointee.end()
        }
        sax.characters = { context, text, length in
            guard let walker = Walker.from(context), let text, length > 0 else { return }
            walker.pointee.characters(text, Int(length))
        }
        sax.ignorableWhitespace = sax.characters
        // Script and style bodies: only read when capturing JSON-LD.
        sax.cdataBlock = { context, text, length in
            guard let walker = Walker.from(context), let text, length > 0 else { return }
            walker.pointee.rawCharacters(text, Int(length))
        }
        return sax
    }

    /// Parses `html` (UTF-8) and builds its tree.
    /// - Parameters:
    ///   - html: the document; NUL bytes must already be removed.
    ///   - baseURL: the page's URL, against which links are resolved.
    ///   - construction: which parser builds the document.
    ///   - omitting: byte ranges of `html` that libxml2 is not given: the script and style bodies
    ///     the walk never reads (``MarkupScan/unreadBodies``), in order. gumbo reads the whole page.
    static func build(
        html: String, baseURL: String, construction: TreeConstruction = .libxml2, omitting: [Range<Int>] = []
    ) -> PageTree {
        if construction == .html5 {
            var walker = Walker(baseURL: baseURL)
            HTML5TreeConstruction.replay(html, into: &walker)
            walker.finish()
            return walker.tree
        }
        _ = initialized
        var source = html
        var walker = Walker(baseURL: baseURL)
        guard !source.utf8.isEmpty, let context = htmlNewParserCtxt() else { return walker.tree }
        defer { htmlFreeParserCtxt(context) }
        context.pointee.sax.pointee = makeHandler()
        withUnsafeMutablePointer(to: &walker) { pointer in
            context.pointee._private = UnsafeMutableRawPointer(pointer)
            source.withUTF8 { whole in
                let parse = { (bytes: UnsafeBufferPointer<UInt8>) in
                    bytes.withMemoryRebound(to: CChar.self) { chars in
                        // The callbacks build no libxml2 document; should one come back all the same, free it.
                        if let doc = htmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), nil, "UTF-8", parseOptions) {
                            xmlFreeDoc(doc)
                        }
                    }
                }
                if omitting.isEmpty {
                    parse(whole)
                    return
                }
                var kept: [UInt8] = []
                kept.reserveCapacity(whole.count - omitting.reduce(0) { $0 + $1.count })
                var next = 0
                for range in omitting where range.lowerBound >= next && range.upperBound <= whole.count {
                    kept.append(contentsOf: UnsafeBufferPointer(rebasing: whole[next..<range.lowerBound]))
                    next = range.upperBound
                }
                kept.append(contentsOf: UnsafeBufferPointer(rebasing: whole[next...]))
                kept.withUnsafeBufferPointer { parse($0) }
            }
            context.pointee._private = nil
        }
        walker.finish()
        return walker.tree
    }
}

/// The state of one walk over a parser's events (libxml2's SAX events, or gumbo's tree replayed
/// by ``HTML5TreeConstruction``).
struct Walker {
    private struct Open {
        var tag: Tag
        /// The element index this node created, or -1 when it is inline.
        var element: Int32
        var isAnchor = false
        var captureStart: (blocks: Int, offset: Int, hints: Hints)?
    }

    /// What the text of a skipped element (`<title>`, JSON-LD `<script>`) is collected for.
    private enum Capture {
        case none, title, jsonLD
        /// A block hidden by `style="display:none"`, kept aside as plain text (see ``PageTree/hiddenText``).
        case hiddenText
    }

    var tree: PageTree
    private var stack: [Open] = []
    private var current: Int32 = -1
    private var buffer: [UInt8] = []
    private var bufferLength: Int32 = 0
    private var bufferLinkLength: Int32 = 0
    private var bufferCommas: Int32 = 0
    private var lastWasSpace = true
    private var linkDepth = 0
    private var anchorStack: [(href: String?, blocks: Int, offset: Int)] = []
    private var inHead = 0
    private var titleBytes: [UInt8]?
    /// Depth inside an element whose subtree is not walked (0: walking).
    private var skipDepth = 0
    private var capture = Capture.none
    private var captured: [UInt8] = []
    /// While capturing hidden text: per open element whether it is a link, the links open, and the
    /// bytes of text in and out of links (a hidden menu is links, not content).
    private var hiddenAnchors: [Bool] = []
    private var hiddenLinkDepth = 0
    private var hiddenLinkBytes = 0
    private var tagCache: [UnsafeRawPointer: Tag] = [:]
    private var hintCache: [String: Hints] = [:]
    private let resolver: URLResolver

    init(baseURL: String) {
        tree = PageTree(baseURL: baseURL)
        resolver = URLResolver(base: baseURL)
        buffer.reserveCapacity(4096)
    }

    /// The walker a SAX callback's context (the parser context) carries in `_private`.
    static func from(_ context: UnsafeMutableRawPointer?) -> UnsafeMutablePointer<Walker>? {
        guard let context else { return nil }
        let parser = context.assumingMemoryBound(to: xmlParserCtxt.self)
        return parser.pointee._private?.assumingMemoryBound(to: Walker.self)
    }

    // MARK: Events

    mutating func start(_ name: UnsafePointer<xmlChar>, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        if skipDepth > 0 {
            skipDepth += 1
            // A block inside a hidden block ends a paragraph of its text (NUL never occurs in a page).
            if capture == .hiddenText {
                let tag = tag(of: name)
                if tag.isBlock { captured.append(0) }
                hiddenAnchors.append(tag == .a)
                if tag == .a { hiddenLinkDepth += 1 }
            }
            return
        }
        if !enter(name, attributes) { skipDepth = 1 }
    }

    mutating func end() {
        if skipDepth > 0 {
            skipDepth -= 1
            if capture == .hiddenText, hiddenAnchors.popLast() == true { hiddenLinkDepth -= 1 }
            if skipDepth == 0 { endCapture() }
            return
        }
        exit()
    }

    mutating func characters(_ text: UnsafePointer<xmlChar>, _ length: Int) {
        if skipDepth > 0 {
            if capture != .none { captured.append(contentsOf: UnsafeBufferPointer(start: text, count: length)) }
            if capture == .hiddenText && hiddenLinkDepth > 0 { hiddenLinkBytes += length }
            return
        }
        appendText(text, length)
    }

    mutating func rawCharacters(_ text: UnsafePointer<xmlChar>, _ length: Int) {
        if skipDepth > 0 && capture != .none && capture != .hiddenText { captured.append(contentsOf: UnsafeBufferPointer(start: text, count: length)) }
    }

    private mutating func endCapture() {
        switch capture {
        case .none: return
        case .title:
            if titleBytes == nil && !captured.isEmpty { titleBytes = captured }
        case .jsonLD:
            if !captured.isEmpty { tree.jsonLD.append(String(decoding: captured, as: UTF8.self)) }
        case .hiddenText:
            let paragraphs = captured.split(separator: 0).map { String(decoding: $0, as: UTF8.self).collapsingWhitespace() }
                .filter { !$0.isEmpty }
            let length = paragraphs.reduce(0) { $0 + $1.unicodeScalars.count }
            let mostlyLinks = hiddenLinkBytes * 2 >= captured.count
            if !mostlyLinks && length > tree.hiddenText.reduce(0, { $0 + $1.unicodeScalars.count }) { tree.hiddenText = paragraphs }
            hiddenAnchors.removeAll(keepingCapacity: true)
            hiddenLinkDepth = 0
            hiddenLinkBytes = 0
        }
        capture = .none
        captured.removeAll(keepingCapacity: true)
    }

    mutating func finish() {
        skipDepth = 0
        endCapture()
        while !stack.isEmpty { exit() }
        flush()
        if let titleBytes { tree.titleText = String(decoding: titleBytes, as: UTF8.self).collapsingWhitespace() }
        resolveBoilerplateAncestors()
    }

    /// Sets each element's nearest excluded ancestor-or-self, now that text lengths are known: a
    /// hinted element that is a large, prose-heavy layout wrapper (`articleWidget…`) is not excluded,
    /// nor is one that is mostly an `<article>` (a `newsletter` section around the newsletter itself).
    private mutating func resolveBoilerplateAncestors() {
        // Per element, the text of the largest not-excluded `<article>` (or articleBody) in its
        // subtree; children come after their parent in the array, so one backward pass fills it.
        var articleText = [Int32](repeating: 0, count: tree.elements.count)
        let pageText = tree.elements.reduce(Int32(0)) { $0 + ($1.parent < 0 ? $1.textLength : 0) }
        for index in tree.elements.indices.reversed() {
            let element = tree.elements[index]
            if element.tag == .article || element.hints.contains(.articleBody),
                !element.hints.excludesText || isProseWrapper(element, pageText: pageText)
            {
                articleText[index] = max(articleText[index], element.textLength)
            }
            if element.parent >= 0 {
                articleText[Int(element.parent)] = max(articleText[Int(element.parent)], articleText[index])
            }
        }
        // Per element, the text of the nearest `<article>` (or articleBody) around it that is kept.
        var enclosingArticle = [Int32](repeating: 0, count: tree.elements.count)
        for index in tree.elements.indices {
            let element = tree.elements[index]
            var excluded = element.hints.excludesText
            let enclosing = element.parent >= 0 ? enclosingArticle[Int(element.parent)] : 0
            // Around an article and mostly that article, or inside one and most of it: the name
            // is a theme or a modifier (a `newsletter` page's sections), not a box beside the text.
            if excluded, isProseWrapper(element, pageText: pageText)
                || !element.hints.contains(.hidden) && articleText[index] >= 500
                    && Int(articleText[index]) * 5 >= Int(element.textLength) * 4
                || !element.hints.contains(.hidden) && enclosing >= 500 && element.linkDensity < 0.25
                    && Int(element.textLength) * 5 >= Int(enclosing) * 4
                || isProseInsideArticle(element, enclosing: enclosing)
            {
                excluded = false
            }
            // Named as a list of links, but holding prose with few links: the name is wrong
            // (sections classed `toc-para`), and the element is judged like an unnamed one.
            if element.hints.contains(.linkList) && element.textLength >= 200 && element.linkDensity < 0.2 {
                tree.elements[index].hints.remove(.linkList)
                if !tree.elements[index].hints.excludesText { excluded = false }
            }
            let isArticle = element.tag == .article || element.hints.contains(.articleBody)
            enclosingArticle[index] = isArticle && !excluded ? element.textLength : enclosing
            if excluded {
                tree.elements[index].boilerplateAncestor = Int32(index)
            } else {
                let parent = element.parent
                tree.elements[index].boilerplateAncestor = parent >= 0 ? tree.elements[Int(parent)].boilerplateAncestor : -1
            }
        }
    }

    /// A box named like boilerplate inside a kept `<article>` that is a long run of prose with
    /// almost no links (a review's `keyword-recap` sections): part of the article. Comment threads
    /// are long prose too, and stay out.
    private func isProseInsideArticle(_ element: PageTree.Element, enclosing: Int32) -> Bool {
        enclosing >= 500 && element.textLength >= 1000 && element.linkDensity < 0.1
            && element.hints.isDisjoint(with: [.hidden, .comments])
    }

    /// A wrapper named like furniture but holding the page: layout words and a lot of prose, or only
    /// furniture words (an unclosed nav bar swallowing the page) with even more prose. A `<footer>`
    /// or `<aside>` must also hold half the page's text: one full of testimonials is still a footer.
    private func isProseWrapper(_ element: PageTree.Element, pageText: Int32) -> Bool {
        guard !element.hints.contains(.hidden), element.linkDensity < 0.25 else { return false }
        let semanticFurniture = element.tag == .footer || element.tag == .aside
        return element.hints.contains(.layout) && element.textLength >= 2000
            || element.hints.isDisjoint(with: [.boilerplate, .linkList]) && element.textLength >= 4000
                && (!semanticFurniture || element.textLength * 2 >= pageText)
    }

    // MARK: Elements

    private mutating func tag(of name: UnsafePointer<xmlChar>) -> Tag {
        let key = UnsafeRawPointer(name)
        if let tag = tagCache[key] { return tag }
        let tag = Tag(name: String(cString: name).lowercased())
        tagCache[key] = tag
        return tag
    }

    /// Handles an element's start; returns whether to walk into its children.
    private mutating func enter(_ name: UnsafePointer<xmlChar>, _ attributeList: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> Bool {
        let tag = tag(of: name)
        var attributes = Attributes()
        attributes.read(attributeList, tag: tag)

        if attributes.hidden && !attributes.streamedContent {
            if attributes.styleHidden && tag.isBlock && tag != .body && tag != .html { capture = .hiddenText }
            return false
        }
        switch tag {
        case .script:
            if attributes.type?.lowercased().contains("ld+json") == true { capture = .jsonLD }
            return false
        case .head:
            inHead += 1
        case .title:
            if inHead > 0 || titleBytes == nil {
                if titleBytes == nil { capture = .title }
                return false
            }
        case .meta:
            recordMeta(attributes)
            return false
        case .link:
            if let rel = attributes.rel?.lowercased(), rel.split(separator: " ").contains("canonical"),
                tree.canonicalHref == nil
            {
                tree.canonicalHref = attributes.href
            }
            return false
        case .base:
            if let href = attributes.href, let url = resolver.resolve(href) {
                tree.baseURL = url
            }
            return false
        case .html:
            if let lang = attributes.lang, !lang.isEmpty { tree.htmlLang = lang }
        case .img:
            recordImage(attributes)
            return false
        case .br, .hr:
            flush()
            return false
        default:
            if tag.isSkipped { return false }
        }
        if inHead > 0 && tag != .head { return false }

        var hints = elementHints(tag: tag, attributes: attributes)
        if let datetime = attributes.datetime ?? (attributes.itemprop?.lowercased().hasPrefix("date") == true ? attributes.content : nil) {
            tree.dates.append(.init(value: datetime, isDatetimeAttribute: true, itemprop: attributes.itemprop))
        }
        if hints.contains(.hidden) { return false }
        if tag == .a { hints.remove(.caption) }
        if attributes.streamedContent && tag.isBlock { hints.insert(.streamed) }

        var open = Open(tag: tag, element: -1)
        let promote = !hints.isDisjoint(with: [.boilerplate, .linkList, .caption]) && tag != .a && tag != .time
        if tag.isBlock || promote {
            flush()
            open.element = newElement(tag: tag, hints: hints)
        }
        if tag == .a {
            open.isAnchor = true
            linkDepth += 1
            anchorStack.append((attributes.href, tree.blocks.count, buffer.count))
        }
        if !hints.isDisjoint(with: [.byline, .date]) || attributes.rel?.lowercased() == "author" {
            var captured = hints.intersection([.byline, .date])
            if attributes.rel?.lowercased() == "author" { captured.insert(.byline) }
            open.captureStart = (tree.blocks.count, buffer.count, captured)
        }
        stack.append(open)
        return true
    }

    private mutating func exit() {
        guard let open = stack.popLast() else { return }
        if open.tag == .head { inHead = max(0, inHead - 1) }
        if let start = open.captureStart {
            let text = textSince(blocks: start.blocks, offset: start.offset)
            if !text.isEmpty, text.unicodeScalars.count <= 160 {
                if start.hints.contains(.byline) { tree.bylineCandidates.append(text) }
                if start.hints.contains(.date) { tree.dates.append(.init(value: text, isDatetimeAttribute: false, itemprop: nil)) }
            }
        }
        if open.isAnchor {
            linkDepth = max(0, linkDepth - 1)
            if let anchor = anchorStack.popLast(), let href = anchor.href, let url = resolver.resolve(href) {
                let text = textSince(blocks: anchor.blocks, offset: anchor.offset)
                tree.anchors.append(.init(text: text, url: url, block: Int32(tree.blocks.count), element: current))
                if anchor.blocks < tree.blocks.count {
                    tree.anchors[tree.anchors.count - 1].block = Int32(anchor.blocks)
                }
            }
        }
        if open.element >= 0 {
            flush()
            let index = Int(open.element)
            tree.elements[index].blockEnd = Int32(tree.blocks.count)
            let parent = tree.elements[index].parent
            if parent >= 0 {
                tree.elements[Int(parent)].textLength += tree.elements[index].textLength
                tree.elements[Int(parent)].linkLength += tree.elements[index].linkLength
                tree.elements[Int(parent)].imageCount += tree.elements[index].imageCount
            }
            current = parent
        }
    }

    private mutating func newElement(tag: Tag, hints: Hints) -> Int32 {
        let index = Int32(tree.elements.count)
        let parent = current
        var boilerplate: Int32 = -1
        if hints.excludesText {
            boilerplate = index
        } else if parent >= 0 {
            boilerplate = tree.elements[Int(parent)].boilerplateAncestor
        }
        let depth = parent >= 0 ? tree.elements[Int(parent)].depth + 1 : 0
        tree.elements.append(
            .init(
                tag: tag, parent: parent, depth: depth, hints: hints, boilerplateAncestor: boilerplate,
                blockStart: Int32(tree.blocks.count), blockEnd: Int32(tree.blocks.count)))
        if parent >= 0 {
            // Link into the parent's child list (the previous sibling is the parent's last child).
            var child = tree.elements[Int(parent)].firstChild
            if child < 0 {
                tree.elements[Int(parent)].firstChild = index
            } else {
                // Walk is bounded by the sibling count; keep a cursor for long lists.
                if let last = lastChild[parent] { child = last }
                while tree.elements[Int(child)].nextSibling >= 0 { child = tree.elements[Int(child)].nextSibling }
                tree.elements[Int(child)].nextSibling = index
            }
            lastChild[parent] = index
        }
        current = index
        return index
    }

    private var lastChild: [Int32: Int32] = [:]

    private mutating func elementHints(tag: Tag, attributes: Attributes) -> Hints {
        var hints: Hints = []
        let classAndID = attributes.classAndID
        if !classAndID.isEmpty {
            if let cached = hintCache[classAndID] {
                hints = cached
            } else {
                hints = Vocabulary.cachedHints(forClassAndID: classAndID)
                hintCache[classAndID] = hints
            }
        }
        switch tag {
        case .nav, .aside, .footer: hints.insert(.furniture)
        case .article, .main: hints.formUnion([.positive, .layout])
        case .figcaption, .caption: hints.insert(.caption)
        default: break
        }
        if let role = attributes.role?.lowercased() {
            switch role {
            case "navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search":
                hints.insert(.furniture)
            case "main", "article": hints.formUnion([.positive, .layout])
            case "dialog", "alertdialog": hints.formUnion([.boilerplate, .dialog])
            default: break
            }
        }
        if let itemprop = attributes.itemprop?.lowercased() {
            if itemprop == "articlebody" || itemprop == "text" { hints.formUnion([.articleBody, .positive, .layout]) }
            if itemprop == "author" || itemprop == "creator" { hints.insert(.byline) }
        }
        return hints
    }

    private mutating func recordMeta(_ attributes: Attributes) {
        guard let content = attributes.content else { return }
        let value = content.trimmingSpaces()
        guard !value.isEmpty else { return }
        for key in [attributes.property, attributes.name, attributes.itemprop, attributes.httpEquiv] {
            guard let key = key?.lowercased(), !key.isEmpty else { continue }
            if tree.meta[key] == nil { tree.meta[key] = value }
        }
    }

    private mutating func recordImage(_ attributes: Attributes) {
        guard let src = attributes.imageSource, let url = resolver.resolve(src) else { return }
        tree.images.append(.init(src: url, alt: attributes.alt, element: current, blockPosition: Int32(tree.blocks.count)))
        if current >= 0 { tree.elements[Int(current)].imageCount += 1 }
    }

    // MARK: Text

    private mutating func appendText(_ content: UnsafePointer<xmlChar>, _ length: Int) {
        if inHead > 0 { return }
        var p = content
        let end = content + length
        let inLink = linkDepth > 0
        while p < end {
            let byte = p.pointee
            if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C {
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 1
                continue
            }
            if byte == 0xC2 && p + 1 < end && p[1] == 0xA0 {  // NBSP
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 2
                continue
            }
            if byte == 0xE2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0x8B || p[2] == 0x8C || p[2] == 0x8D) {  // zero-width
                p += 3
                continue
            }
            if lastWasSpace && !buffer.isEmpty {
                // Count the space we kept as text (it separates words).
                bufferLength += 1
                if inLink { bufferLinkLength += 1 }
            }
            buffer.append(byte)
            lastWasSpace = false
            if byte & 0xC0 != 0x80 {
                bufferLength += 1
                if inLink { bufferLinkLength += 1 }
            }
            if byte == 0x2C { bufferCommas += 1 }
            if byte == 0xEF && p + 2 < end && p[1] == 0xBC && p[2] == 0x8C { bufferCommas += 1 }  // ，
            if byte == 0xE3 && p + 2 < end && p[1] == 0x80 && p[2] == 0x81 { bufferCommas += 1 }  // 、
            p += 1
        }
    }

    /// Ends the current run of text as a block of the current element.
    private mutating func flush() {
        while buffer.last == 0x20 { buffer.removeLast() }
        if !buffer.isEmpty {
            let element = current
            let tag = element >= 0 ? tree.elements[Int(element)].tag : .body
            let hints = element >= 0 ? tree.elements[Int(element)].hints : []
            var kind: PageTree.BlockKind
            switch tag {
            case .h1, .h2, .h3, .h4, .h5, .h6: kind = .heading
            case .li, .dt, .dd: kind = .listItem
            case .figcaption, .caption: kind = .caption
            case .pre: kind = .preformatted
            case .blockquote: kind = .quote
            case .td, .th: kind = .tableCell
            default: kind = .paragraph
            }
            if hints.contains(.caption) { kind = .caption }
            let length = max(bufferLength, 1)
            tree.blocks.append(
                .init(
                    text: String(decoding: buffer, as: UTF8.self), length: length,
                    linkLength: min(bufferLinkLength, length), element: element, kind: kind,
                    headingLevel: tag.headingLevel, commas: bufferCommas))
            if element >= 0 {
                tree.elements[Int(element)].textLength += length
                tree.elements[Int(element)].linkLength += min(bufferLinkLength, length)
            }
        }
        buffer.removeAll(keepingCapacity: true)
        bufferLength = 0
        bufferLinkLength = 0
        bufferCommas = 0
        lastWasSpace = true
    }

    /// The text written since a position (a block count and an offset in the pending buffer).
    private func textSince(blocks start: Int, offset: Int) -> String {
        if start == tree.blocks.count {
            guard offset < buffer.count else { return "" }
            return Self.normalized(buffer[offset...])
        }
        var parts = tree.blocks[start...].map(\.text)
        if !buffer.isEmpty { parts.append(Self.normalized(buffer[...])) }
        return parts.joined(separator: " ").trimmingSpaces()
    }

    /// Text from the pending buffer, whose whitespace is already collapsed: trims the ends.
    private static func normalized(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while slice.first == 0x20 { slice.removeFirst() }
        while slice.last == 0x20 { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}

/// The attributes of one element that the walk reads.
private struct Attributes {
    var classAndID = ""
    var role: String?
    var itemprop: String?
    var href: String?
    var src: String?
    var lazySrc: String?
    var alt: String?
    var datetime: String?
    var content: String?
    var property: String?
    var name: String?
    var httpEquiv: String?
    var rel: String?
    var type: String?
    var lang: String?
    var hidden = false
    /// Hidden by `style` (`display:none`), which a script may lift.
    var styleHidden = false
    var streamedContent = false

    var imageSource: String? {
        for candidate in [lazySrc, src] {
            if let value = candidate?.trimmingSpaces(), !value.isEmpty, !value.hasPrefix("data:") { return value }
        }
        return nil
    }

    /// The attributes the walk reads, by name (libxml2's HTML parser reports names in lower case).
    private enum Name {
        case `class`, id, role, itemprop, href, src, lazySrc, alt, datetime, content, property, name, httpEquiv
        case rel, type, lang, hidden, style, ariaHidden

        static let byName: [[UInt8]: Name] = [
            Array("class".utf8): .class, Array("id".utf8): .id, Array("role".utf8): .role,
            Array("itemprop".utf8): .itemprop, Array("href".utf8): .href, Array("src".utf8): .src,
            Array("data-src".utf8): .lazySrc, Array("data-original".utf8): .lazySrc,
            Array("data-lazy-src".utf8): .lazySrc, Array("data-srcset-src".utf8): .lazySrc,
            Array("alt".utf8): .alt, Array("datetime".utf8): .datetime, Array("content".utf8): .content,
            Array("property".utf8): .property, Array("name".utf8): .name, Array("http-equiv".utf8): .httpEquiv,
            Array("rel".utf8): .rel, Array("type".utf8): .type, Array("lang".utf8): .lang,
            Array("hidden".utf8): .hidden, Array("style".utf8): .style, Array("aria-hidden".utf8): .ariaHidden,
        ]
        /// The names above by length, and which bytes start one: most attributes (`width`,
        /// `aria-label`, most `data-*`) are passed over on their first byte or length, the rest
        /// compared with the few names of their length, without hashing or allocating.
        static let byLength: [[([UInt8], Name)]] = {
            var table = [[([UInt8], Name)]](repeating: [], count: 17)
            for (bytes, name) in byName where bytes.count <= 16 { table[bytes.count].append((bytes, name)) }
            return table
        }()
        static let firstBytes: [Bool] = {
            var table = [Bool](repeating: false, count: 256)
            for bytes in byName.keys { table[Int(bytes[0])] = true }
            return table
        }()

        static func of(_ name: UnsafePointer<xmlChar>) -> Name? {
            guard firstBytes[Int(name.pointee)] else { return nil }
            var length = 0
            while name[length] != 0 && length <= 16 { length += 1 }
            guard length <= 16 else { return nil }
            for (bytes, value) in byLength[length] where bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name, length) == 0 }) {
                return value
            }
            return nil
        }
    }

    /// Reads the `name, value, name, value, …, NULL` list of a SAX start-element event.
    mutating func read(_ list: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, tag: Tag) {
        guard let list else { return }
        var index = 0
        while let rawName = list[index] {
            let rawValue = list[index + 1]
            index += 2
            guard let name = Name.of(rawName) else { continue }
            // An attribute without a value (`<div hidden>`) reads as empty.
            let value = rawValue.map { String(cString: $0) } ?? ""
            switch name {
            case .class:
                if !classAndID.isEmpty { classAndID += " " }
                classAndID += value
            case .role: role = value
            case .itemprop: itemprop = value
            case .href: href = value
            case .src: src = value
            case .lazySrc:
                if lazySrc == nil { lazySrc = value }
            case .alt: alt = value.isEmpty ? nil : value.collapsingWhitespace()
            case .datetime: datetime = value
            case .content: content = value
            case .property: property = value
            case .name: name_(value)
            case .httpEquiv: httpEquiv = value
            case .rel: rel = value
            case .type: type = value
            case .lang: lang = value
            case .hidden: hidden = true
            case .id:
                if !classAndID.isEmpty { classAndID += " " }
                classAndID += value
                // React's streamed server rendering parks the page in `<div hidden id="S:0">`.
                if value.hasPrefix("S:") { streamedContent = true }
            case .style:
                // `visibility:hidden` is left alone: pages hide their whole body that way until a script runs.
                if let rawValue, Self.styleHidesElement(rawValue) {
                    hidden = true
                    styleHidden = true
                }
            case .ariaHidden:
                if value.lowercased() == "true" && tag.isBlock && tag != .body && tag != .html { hidden = true }
            }
        }
    }

    /// Whether a `style` value holds `display:none` (any case, spaces anywhere).
    static func styleHidesElement(_ style: UnsafePointer<xmlChar>) -> Bool {
        let pattern = Array("display:none".utf8)
        var p = style
        var matched = 0
        while p.pointee != 0 {
            var byte = p.pointee
            p += 1
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
            if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
            if byte == pattern[matched] {
                matched += 1
                if matched == pattern.count { return true }
            } else {
                // The pattern's first byte does not recur in it, so a mismatch restarts at this byte.
                matched = byte == pattern[0] ? 1 : 0
            }
        }
        return false
    }

    private mutating func name_(_ value: String) { name = value }
}
