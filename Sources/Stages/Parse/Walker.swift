import CLibXML2
import Glibc
import RunnelProtocol

/// The state of one walk over a parser's events: the native ``TreeBuilder``'s (it is a
/// ``TreeSink``), libxml2's SAX events, or gumbo's tree replayed by ``HTML5TreeConstruction``.
struct Walker {
    struct Open {
        var tag: Tag
        /// The element index this node created, or -1 when it is inline.
        var element: Int32
        var isAnchor = false
        /// A collapsed toggle outside the page's boilerplate (see ``Walker/toggleJustEnded``).
        var isCollapsedToggle = false
        var captureStart: (blocks: Int, offset: Int, hints: Hints)?
    }

    /// What the text of a skipped element (`<title>`, JSON-LD `<script>`) is collected for.
    enum Capture {
        case none, title, jsonLD
        /// A block hidden by `style="display:none"`, kept aside as plain text (see ``PageTree/hiddenText``).
        case hiddenText
    }

    var tree: PageTree
    var stack: [Open] = []
    var current: Int32 = -1
    var buffer: [UInt8] = []
    var bufferLength: Int32 = 0
    var bufferLinkLength: Int32 = 0
    var bufferCommas: Int32 = 0
    var lastWasSpace = true
    var linkDepth = 0
    /// How many `<pre>` are open: inside one, text keeps its line breaks and indentation.
    var preDepth = 0
    var anchorStack: [(href: String?, blocks: Int, offset: Int)] = []
    var inHead = 0
    var titleBytes: [UInt8]?
    /// Depth inside an element whose subtree is not walked (0: walking).
    var skipDepth = 0
    var capture = Capture.none
    var captured: [UInt8] = []
    /// While capturing hidden text: per open element whether it is a link, the links open, and the
    /// bytes of text in and out of links (a hidden menu is links, not content).
    var hiddenAnchors: [Bool] = []
    var hiddenLinkDepth = 0
    var hiddenLinkBytes = 0
    var tagCache = HashedNameTable<Tag?>(empty: nil)
    /// The ids of the panels an accordion's headers show and hide (`<h3><button
    /// aria-controls=ID>`): such a panel is content a reader opens, though `aria-hidden` while
    /// closed.
    var accordionPanels: Set<String> = []
    /// How many headings are open on ``stack``.
    var openHeadings = 0
    /// Whether a collapsed toggle (`aria-expanded=false`, outside the page's boilerplate) has just
    /// ended, with no element started since. The next element, when hidden only by `aria-hidden`,
    /// is the panel it shows (WAI-ARIA's disclosure pattern: `<div><a aria-expanded=false>
    /// Methodology</a></div><div aria-hidden=true>…`): content a reader opens.
    var toggleJustEnded = false
    /// The hints of the class and id words seen on this page and the pages before it
    /// (``Vocabulary/KeptHints``), given back when the walk finishes.
    var hintCache = Vocabulary.KeptHints.take()
    /// Per element (by index), its last child so far, where the next child is linked in as a
    /// sibling; -1 while it has none.
    var lastChild: [Int32] = []
    let resolver: URLResolver

    init(baseURL: String) {
        resolver = URLResolver(base: baseURL)
        tree = PageTree(base: resolver)
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

    mutating func endCapture() {
        switch capture {
        case .none: return
        case .title:
            if titleBytes == nil && !captured.isEmpty { titleBytes = captured }
        case .jsonLD:
            if !captured.isEmpty { tree.jsonLD.append(String(decoding: captured, as: UTF8.self)) }
        case .hiddenText:
            let paragraphs = captured.split(separator: 0).map { String(decoding: $0, as: UTF8.self).collapsingWhitespace() }
                .filter { !$0.isEmpty }
            let length = paragraphs.reduce(0) { $0 + $1.scalarCount }
            let mostlyLinks = hiddenLinkBytes * 2 >= captured.count
            if !mostlyLinks && length > tree.hiddenText.reduce(0, { $0 + $1.scalarCount }) { tree.hiddenText = paragraphs }
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
        Vocabulary.KeptHints.giveBack(hintCache)
        hintCache = HashedNameTable(empty: nil, capacity: 1)
    }

    /// Sets each element's nearest excluded ancestor-or-self, now that text lengths are known: a
    /// hinted element that is a large, prose-heavy layout wrapper (`articleWidget…`) is not excluded,
    /// nor is one that is mostly an `<article>` (a `newsletter` section around the newsletter itself).
    mutating func resolveBoilerplateAncestors() {
        // Per element, the text of the largest not-excluded `<article>` (or articleBody) in its
        // subtree; children come after their parent in the array, so one backward pass fills it.
        var articleText = [Int32](repeating: 0, count: tree.elements.count)
        let pageText = tree.elements.reduce(Int32(0)) { $0 + ($1.parent < 0 ? $1.textLength : 0) }
        // The elements around the page's first `<h1>`, the article's title on most pages.
        var holdsTitle = [Bool](repeating: false, count: tree.elements.count)
        if var cursor = tree.elements.firstIndex(where: { $0.tag == .h1 }).map(Int32.init) {
            while cursor >= 0 {
                holdsTitle[Int(cursor)] = true
                cursor = tree.elements[Int(cursor)].parent
            }
        }
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
        // The kinds of the last parent's children kept as prose inside its article (below).
        var proseKinds: (parent: Int32, kinds: [(Tag, Hints)]) = (-1, [])
        for index in tree.elements.indices {
            let element = tree.elements[index]
            var excluded = element.hints.excludesText
            let enclosing = element.parent >= 0 ? enclosingArticle[Int(element.parent)] : 0
            if excluded && enclosing >= 500 && element.parent != proseKinds.parent {
                proseKinds = (element.parent, proseChildKinds(of: element.parent, enclosing: enclosing))
            }
            // Around an article and mostly that article, or inside one and most of it: the name
            // is a theme or a modifier (a `newsletter` page's sections), not a box beside the text.
            if excluded, isProseWrapper(element, pageText: pageText)
                || !element.hints.contains(.hidden) && articleText[index] >= 500
                    && Int(articleText[index]) * 5 >= Int(element.textLength) * 4
                || !element.hints.contains(.hidden) && enclosing >= 500 && element.linkDensity < 0.25
                    && Int(element.textLength) * 5 >= Int(enclosing) * 4
                || isProseInsideArticle(element, enclosing: enclosing)
                || isLikeProseSibling(element, enclosing: enclosing, proseKinds: element.parent == proseKinds.parent ? proseKinds.kinds : [])
                || isTitledColumn(element, holdsTitle: holdsTitle[index])
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

    /// A column named like furniture (`leftCol`) that holds the page's title and a good deal of
    /// text that is not links: the page's main column, not a sidebar.
    func isTitledColumn(_ element: PageTree.Element, holdsTitle: Bool) -> Bool {
        holdsTitle && element.hints.isDisjoint(with: [.boilerplate, .linkList, .hidden])
            && element.tag != .header && element.tag != .nav && element.tag != .footer
            && element.textLength >= 500 && element.linkDensity < 0.5
    }

    /// A box named like boilerplate inside a kept `<article>` that is a long run of prose with
    /// almost no links (a review's `keyword-recap` sections): part of the article. Comment threads
    /// are long prose too, and stay out.
    func isProseInsideArticle(_ element: PageTree.Element, enclosing: Int32) -> Bool {
        enclosing >= 500 && element.textLength >= 1000 && element.linkDensity < 0.1
            && element.hints.isDisjoint(with: [.hidden, .comments])
    }

    /// The tags and hints of `parent`'s children that ``isProseInsideArticle(_:enclosing:)`` keeps
    /// (at most 5,000 children are looked at).
    func proseChildKinds(of parent: Int32, enclosing: Int32) -> [(Tag, Hints)] {
        guard parent >= 0 else { return [] }
        var kinds: [(Tag, Hints)] = []
        var child = tree.elements[Int(parent)].firstChild
        var steps = 0
        while child >= 0 && steps < 5000 {
            let element = tree.elements[Int(child)]
            if element.hints.excludesText && isProseInsideArticle(element, enclosing: enclosing)
                && !kinds.contains(where: { $0.0 == element.tag && $0.1 == element.hints })
            {
                kinds.append((element.tag, element.hints))
            }
            child = element.nextSibling
            steps += 1
        }
        return kinds
    }

    /// A shorter box named as one beside it that is kept as prose inside the article (a review's
    /// `TestReport__Section--Ads` sections, the name saying they may hold ads): the same kind of
    /// part, so its prose is kept too when it has almost no links.
    func isLikeProseSibling(_ element: PageTree.Element, enclosing: Int32, proseKinds: [(Tag, Hints)]) -> Bool {
        enclosing >= 500 && element.textLength >= 200 && element.linkDensity < 0.1
            && element.hints.isDisjoint(with: [.hidden, .comments])
            && proseKinds.contains { $0.0 == element.tag && $0.1 == element.hints }
    }

    /// A wrapper named like furniture but holding the page: layout words and a lot of prose, or only
    /// furniture words (an unclosed nav bar swallowing the page) with even more prose. A `<footer>`
    /// or `<aside>` must also hold half the page's text: one full of testimonials is still a footer.
    func isProseWrapper(_ element: PageTree.Element, pageText: Int32) -> Bool {
        guard !element.hints.contains(.hidden), element.linkDensity < 0.25 else { return false }
        let semanticFurniture = element.tag == .footer || element.tag == .aside
        return element.hints.contains(.layout) && element.textLength >= 2000
            || element.hints.isDisjoint(with: [.boilerplate, .linkList]) && element.textLength >= 4000
                && (!semanticFurniture || element.textLength * 2 >= pageText)
    }
}
