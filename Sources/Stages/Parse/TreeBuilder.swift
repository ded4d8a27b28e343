import Glibc

/// What a tree builder hands a document to, in document order: element starts and ends (every
/// start has its end) and text. ``Walker`` is one; it reduces the events to a ``PageTree``.
protocol TreeSink {
    /// An element starts: its lower-case name, and its attributes as a `name, value, …, nil` list
    /// of NUL-terminated strings (nil when it has none).
    mutating func start(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?)
    /// The element started last and not yet ended ends.
    mutating func end()
    /// Text, with its character references decoded.
    mutating func characters(_ text: UnsafePointer<UInt8>, _ length: Int)
    /// The text of a `<script>` or `<style>`, as it is.
    mutating func rawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int)
    /// An SVG (`svg` true) or MathML element starts; by default, as ``start(_:_:)``.
    mutating func startForeign(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool)
    /// The attributes of a second `<html>` or `<body>` start tag (`root` is ``ElementKind/html``
    /// or ``ElementKind/body``), which a browser adds to the element, open since, where it has
    /// none of that name; by default they are dropped.
    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind)
    /// Whether the sink reads nothing inside a `<template>` (its content, which a browser keeps
    /// apart and builds in modes of its own); by default it reads it.
    static var skipsTemplateContent: Bool { get }
}

extension TreeSink {
    mutating func startForeign(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, svg: Bool) {
        start(name, attributes)
    }

    mutating func addAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {}

    static var skipsTemplateContent: Bool { false }
}

extension Walker: TreeSink {
    /// The walk skips a template's subtree (``Tag/isSkipped``).
    static var skipsTemplateContent: Bool { true }
}

/// HTML's tree construction (WHATWG HTML 13.2.6) over the tokens of ``HTMLTokenizer``, handing
/// the tree to a ``TreeSink`` as it is built: the insertion modes up to "in body" and "in
/// select", implied end tags, elements in scope, the `<p>`, list-item, heading and button rules,
/// the form element pointer, tables with their implied sections, rows and cells, raw-text
/// elements, and SVG and MathML content with its break-outs.
///
/// Head content after `</head>`, which a browser puts back into the head, goes there: the head
/// ends for the sink only when the body starts. A second `<html>` or `<body>` hands its
/// attributes to the sink (``TreeSink/addAttributes(_:to:)``).
///
/// Some parts of the algorithm move nodes that are already built. The adoption agency's move of
/// a block open right inside a formatting element (`<b><p>…</b>`, `<a href=…><div>…</a>`), the
/// one pages make, the builder makes itself: it holds the sink's events back while such a block
/// is open (``HeldEvents``) and writes the move into them. The others a builder handing out its
/// tree as it goes cannot make: the adoption agency with an element between the formatting
/// element and the block (`<b><span><p>…</b>`), foster parenting (text directly in a
/// `<table>`), and `</form>` with elements still open inside the form. Others this builder
/// leaves out: `<frameset>`, `<annotation-xml>` (an integration point by its `encoding`), and
/// the content of a `<template>`. A browser builds that content apart, in the "in template"
/// mode and the table modes it leads to; the builder reads it with the "in body" rules, which
/// keeps everything outside the template the browser's, so for a sink that skips template
/// content (``TreeSink/skipsTemplateContent``, the ``Walker``) a template is no departure.
/// Where the markup takes one of these, ``departure`` says which; for
/// ``TreeConstruction/automatic`` (built with ``OnDeparture/mute``) the sink is handed nothing
/// more, the tokenizer reads on to the end (to find the script bodies gumbo need not read), and
/// the page is built again with gumbo, which builds the whole document first. (Alone, as
/// ``TreeConstruction/native``, the builder goes on: the formatting element closes with what is
/// open inside it, the misplaced content stays where it is, `</form>` closes what is open inside
/// the form.)
struct TreeBuilder<Sink: TreeSink> {
    enum Namespace: UInt8 { case html, svg, math }

    /// An open element.
    struct Node {
        /// The interned name (one address per name: see ``HTMLTokenizer``).
        var name: UnsafePointer<UInt8>
        var kind: ElementKind
        var namespace: Namespace
        /// Which element this is (elements are numbered as they are inserted).
        var id: Int
        /// What the algorithm says of an HTML element's kind (none for SVG and MathML): read once
        /// at its start, not from ``ElementKind/traits``' table (a lazy global) on every walk
        /// down the stack.
        var traits: ElementKind.Traits
        /// Where its start is among the ``HeldEvents``, or -1 when it was handed on to the sink.
        var heldAt = -1

        init(name: UnsafePointer<UInt8>, kind: ElementKind, namespace: Namespace, id: Int) {
            self.name = name
            self.kind = kind
            self.namespace = namespace
            self.id = id
            traits = namespace == .html ? kind.traits : []
        }

        func `is`(_ kind: ElementKind) -> Bool { self.kind == kind && namespace == .html }

        /// In the "special" category: an end tag of another name does not close through it.
        var isSpecial: Bool {
            switch namespace {
            case .html: traits.contains(.special)
            case .math: kind == .mi || kind == .mo || kind == .mn || kind == .ms || kind == .mtext || kind == .annotationXML
            case .svg: kind == .foreignObject || kind == .desc || kind == .title
            }
        }

        /// A boundary of "has an element in scope".
        var isScopeBoundary: Bool {
            switch namespace {
            case .html: traits.contains(.scopeBoundary)
            case .math: kind == .mi || kind == .mo || kind == .mn || kind == .ms || kind == .mtext || kind == .annotationXML
            case .svg: kind == .foreignObject || kind == .desc || kind == .title
            }
        }

        /// A table, its sections or a row: where text and other elements are foster-parented.
        var isTablePart: Bool {
            namespace == .html && (kind == .table || kind == .tbody || kind == .thead || kind == .tfoot || kind == .tr)
        }

        /// Where SVG or MathML content takes HTML tags again (`<foreignObject>`, `<mi>`…).
        var isIntegrationPoint: Bool {
            switch namespace {
            case .html: false
            case .math: kind == .mi || kind == .mo || kind == .mn || kind == .ms || kind == .mtext
            case .svg: kind == .foreignObject || kind == .desc || kind == .title
            }
        }
    }

    /// A start tag from the tokenizer.
    struct StartTag {
        var name: UnsafePointer<UInt8>
        var kind: ElementKind
        var selfClosing = false
        /// `name, value, …, nil`, or nil without attributes.
        var attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?
        /// An `<input type=hidden>` (kept in place inside a table).
        var isHiddenInput = false
        /// A `<font>` with `color`, `face` or `size`, which leaves SVG and MathML content.
        var isPresentationalFont = false
    }

    private enum Mode { case beforeHTML, beforeHead, inHead, inHeadNoscript, afterHead, inBody }

    /// Where the markup takes the builder off the browser's tree (see the type's comment).
    enum Departure: String, Sendable {
        /// The adoption agency with a block open inside the formatting element.
        case adoptionAgency
        /// Content directly inside a table, which a browser moves before the table.
        case fosterParenting
        /// `</form>` with elements open inside the form, which stay open.
        case formEnd
        /// `<template>`, whose content a browser keeps apart ("in template"), for a sink that reads
        /// it; or inside a `<select>`.
        case template
        /// `<frameset>`, which replaces the body.
        case frameset
        /// `<annotation-xml>`, an HTML integration point or not by its `encoding`.
        case annotationXML
    }

    enum Scope { case normal, listItem, button, table }

    private var sink: Sink
    private var mode = Mode.beforeHTML
    private(set) var stack: [Node] = []
    /// Per element inserted, whether it is still open.
    private var isOpen: [Bool] = []
    private var formatting = ActiveFormattingElements()
    /// The form element pointer: the `<form>` that start and end tags of forms refer to.
    private var form: Int?
    /// Whether a `<select>` is open ("in select"), and whether it was opened inside a table ("in
    /// select in table").
    private var inSelect = false
    private var selectInTable = false
    /// Whether the head is off the stack but not yet ended for the sink: until the body starts,
    /// head content may still come, which goes into the head ("after head").
    private var headEndPending = false
    /// Whitespace after `</head>`, which goes after the head once it ends for the sink.
    private var afterHeadWhitespace: [UInt8] = []
    /// How many `<template>` elements are open: their content takes the "in body" rules,
    /// whatever the mode (see the type's comment).
    private var openTemplates = 0
    /// The first markup where a browser builds another tree (see the type's comment): the tree
    /// handed to the sink is not the browser's from there on. Nil while it is.
    private(set) var departure: Departure?
    /// What happens at a ``departure``.
    let onDeparture: OnDeparture
    /// The events held back from the sink while a block is open right inside a formatting
    /// element, and that block (``HeldEvents``); nil and -1 while events go straight on.
    private var held: HeldEvents?
    private var heldRoot = -1
    /// After `<pre>`, `<listing>` and `<textarea>`: a newline right after the start tag is not text.
    private var dropsNewline = false
    /// Whether the document is in quirks mode: no doctype before the first element or text, or
    /// one that says so (``Doctype/isQuirks``).
    private(set) var quirks = true
    private var doctypeSeen = false

    /// Whether a doctype here sets the document's mode (nothing but comments and whitespace before it).
    var awaitsDoctype: Bool { mode == .beforeHTML && !doctypeSeen }

    /// Whether the tree departs from the browser's (``departure``).
    var departs: Bool { departure != nil }

    /// Whether the tokenizer stops here.
    var stops: Bool { departure != nil && onDeparture == .stop }

    /// Whether the sink is handed nothing more (``OnDeparture/mute``).
    private var isMuted: Bool { departure != nil && onDeparture == .mute }

    /// Whether text is read as in SVG or MathML (a CDATA section is text there).
    var inForeignContent: Bool { stack.last.map { $0.namespace != .html } ?? false }

    /// What the builder does at the first markup where a browser builds another tree.
    enum OnDeparture {
        /// Goes on building its own tree (``TreeConstruction/native``; see the type's comment).
        case goOn
        /// Stops: the tokenizer reads no further.
        case stop
        /// Goes on reading the page but hands the sink nothing more (its tree is to be thrown
        /// away), for what the tokenizer finds past the departure: the script bodies another
        /// builder need not read (``HTMLTokenizer/run(_:into:limits:unreadBodies:)``).
        case mute
    }

    init(sink: Sink, onDeparture: OnDeparture = .goOn) {
        self.sink = sink
        self.onDeparture = onDeparture
        stack.reserveCapacity(64)
    }

    private mutating func depart(_ why: Departure) {
        if departure == nil { departure = why }
    }

    // MARK: Tokens

    /// A start tag; returns how the tokenizer reads what follows it.
    mutating func startTag(_ tag: StartTag) -> ElementKind.Content {
        dropsNewline = false
        if let current = stack.last, current.namespace == .math, current.isIntegrationPoint, Self.isMathGlyph(tag.name) {
            // `<mglyph>` and `<malignmark>` stay MathML in a MathML text integration point.
            insertForeign(tag, in: .math)
            return .markup
        }
        if let current = stack.last, current.namespace != .html, !current.isIntegrationPoint {
            guard tag.kind.traits.contains(.breaksOutOfForeign) && (tag.kind != .font || tag.isPresentationalFont) else {
                insertForeign(tag, in: tag.kind == .svg ? .svg : tag.kind == .math ? .math : current.namespace)
                return .markup
            }
            while let top = stack.last, top.namespace != .html, !top.isIntegrationPoint { pop() }
        }
        if openTemplates > 0 { return bodyStart(tag) }
        while true {
            switch mode {
            case .beforeHTML:
                mode = .beforeHead
                if tag.kind == .html {
                    push(tag)
                    return .markup
                }
                push(implied: .html)
            case .beforeHead:
                if tag.kind == .html { return secondRoot(tag) }
                mode = .inHead
                if tag.kind == .head {
                    push(tag)
                    return .markup
                }
                push(implied: .head)
            case .inHead:
                if tag.kind == .html { return secondRoot(tag) }
                if tag.kind == .head { return .markup }
                if tag.kind == .noscript {
                    push(tag)
                    mode = .inHeadNoscript
                    return .markup
                }
                if tag.kind.traits.contains(.headContent) { return insert(tag) }
                popHead()
                mode = .afterHead
            case .inHeadNoscript:
                switch tag.kind {
                case .html: return secondRoot(tag)
                case .head, .noscript: return .markup
                case .basefont, .bgsound, .link, .meta, .noframes, .style: return insert(tag)
                default:
                    pop()  // the noscript
                    mode = .inHead
                }
            case .afterHead:
                switch tag.kind {
                case .html: return secondRoot(tag)
                case .head: return .markup
                case .body, .frameset:
                    if tag.kind == .frameset { depart(.frameset) }
                    endHead()
                    push(tag)
                    mode = .inBody
                    return .markup
                default:
                    // Head content goes into the head, which has not ended for the sink yet.
                    if tag.kind.traits.contains(.headContent) { return insert(tag) }
                    endHead()
                    push(implied: .body)
                    mode = .inBody
                }
            case .inBody:
                return bodyStart(tag)
            }
        }
    }

    /// A doctype: it sets the document's mode when it comes first (``awaitsDoctype``).
    mutating func doctype(_ doctype: Doctype) {
        guard awaitsDoctype else { return }
        doctypeSeen = true
        quirks = doctype.isQuirks
    }

    /// An end tag (not the one ending a raw-text element: see ``endText()``).
    mutating func endTag(name: UnsafePointer<UInt8>, kind: ElementKind) {
        dropsNewline = false
        if let current = stack.last, current.namespace != .html {
            if kind == .p || kind == .br {
                // `</p>` and `</br>` leave SVG and MathML content, then take the HTML rules.
                while let top = stack.last, top.namespace != .html, !top.isIntegrationPoint { pop() }
            } else {
                // SVG or MathML: closes the nearest open element of its name, unless an HTML
                // element comes first, whose rules then apply.
                var index = stack.count - 1
                while index > 0 && stack[index].namespace != .html {
                    if stack[index].name == name {
                        while stack.count > index { pop() }
                        return
                    }
                    index -= 1
                }
            }
        }
        if kind == .template { return endTemplate() }
        if openTemplates > 0 { return bodyEnd(name: name, kind: kind) }
        while true {
            switch mode {
            case .beforeHTML:
                guard kind == .head || kind == .body || kind == .html || kind == .br else { return }
                push(implied: .html)
                mode = .beforeHead
            case .beforeHead:
                guard kind == .head || kind == .body || kind == .html || kind == .br else { return }
                push(implied: .head)
                mode = .inHead
            case .inHead:
                if kind == .head {
                    popHead()
                    mode = .afterHead
                    return
                }
                guard kind == .body || kind == .html || kind == .br else { return }
                popHead()
                mode = .afterHead
            case .inHeadNoscript:
                if kind == .noscript {
                    pop()
                    mode = .inHead
                    return
                }
                guard kind == .br else { return }
                pop()
                mode = .inHead
            case .afterHead:
                guard kind == .body || kind == .html || kind == .br else { return }
                endHead()
                push(implied: .body)
                mode = .inBody
            case .inBody:
                bodyEnd(name: name, kind: kind)
                return
            }
        }
    }

    /// Text (character references decoded).
    mutating func text(_ text: UnsafePointer<UInt8>, _ length: Int) {
        var text = text
        var length = length
        dropNewline(&text, &length)
        guard length > 0 else { return }
        while mode != .inBody && openTemplates == 0 {
            // Before the body, whitespace stays (in the head) or goes; other text implies the body.
            var blank = 0
            while blank < length && MarkupBytes.isWhitespace(text[blank]) { blank += 1 }
            if blank > 0 && mode == .afterHead && headEndPending {
                afterHeadWhitespace.append(contentsOf: UnsafeBufferPointer(start: text, count: blank))
            } else if blank > 0 && (mode == .inHead || mode == .inHeadNoscript || mode == .afterHead) {
                handOnCharacters(text, blank)
            }
            text += blank
            length -= blank
            guard length > 0 else { return }
            stepTowardsBody()
        }
        if !inSelect, let current = stack.last, current.namespace == .html || current.isIntegrationPoint {
            if current.isTablePart || current.is(.colgroup), !Self.isBlank(text, length) { depart(.fosterParenting) }
            reconstructFormatting()
        }
        handOnCharacters(text, length)
    }

    /// The text of the raw-text or escapable-text element just started.
    mutating func rawText(_ text: UnsafePointer<UInt8>, _ length: Int) {
        var text = text
        var length = length
        dropNewline(&text, &length)
        guard length > 0 else { return }
        if let current = stack.last, current.is(.script) || current.is(.style) {
            handOnRawCharacters(text, length)
        } else {
            if stack.last?.is(.plaintext) == true { reconstructFormatting() }
            handOnCharacters(text, length)
        }
    }

    /// The end tag of the raw-text or escapable-text element just started.
    mutating func endText() {
        dropsNewline = false  // an empty `<textarea>`: its end tag was the token after the start
        pop()
    }

    /// The end of the document: the elements it implies are inserted (an empty document is
    /// `<html><head></head><body></body></html>`), then every open element ends.
    mutating func finish() {
        while mode != .inBody { stepTowardsBody() }
        while !stack.isEmpty { pop() }
    }

    /// The "anything else" step of a mode before the body, for text or the document's end:
    /// inserts or ends what it implies and moves one mode on.
    private mutating func stepTowardsBody() {
        switch mode {
        case .beforeHTML:
            push(implied: .html)
            mode = .beforeHead
        case .beforeHead:
            push(implied: .head)
            mode = .inHead
        case .inHead:
            popHead()
            mode = .afterHead
        case .inHeadNoscript:
            pop()
            mode = .inHead
        case .afterHead:
            endHead()
            push(implied: .body)
            mode = .inBody
        case .inBody:
            break
        }
    }

    /// Drops the newline that starts `text`, when it comes right after `<pre>`, `<listing>` or
    /// `<textarea>`.
    private mutating func dropNewline(_ text: inout UnsafePointer<UInt8>, _ length: inout Int) {
        guard dropsNewline else { return }
        dropsNewline = false
        if length > 0 && text.pointee == 0x0A {
            text += 1
            length -= 1
        }
    }

    /// The sink, with the document handed to it.
    consuming func finished() -> Sink {
        finish()
        return sink
    }

    // MARK: In body

    private mutating func bodyStart(_ tag: StartTag) -> ElementKind.Content {
        let kind = tag.kind
        if inSelect { return selectStart(tag) }
        if let top = stack.last, top.namespace == .html {
            switch top.kind {
            case .table, .tbody, .thead, .tfoot, .tr:
                if let content = tableStart(tag) { return content }
            case .colgroup where kind == .col:
                insertVoid(tag)
                return .markup
            case .colgroup where kind != .template:
                pop()
                return bodyStart(tag)
            default:
                break
            }
        }
        switch kind {
        case .html, .body:
            return secondRoot(tag)
        case .frameset:
            depart(.frameset)
        case .head, .frame:
            return .markup
        case .h1, .h2, .h3, .h4, .h5, .h6:
            closeParagraph()
            if let top = stack.last, top.traits.contains(.heading) { pop() }
            push(tag)
        case .form:
            if form != nil && openTemplates == 0 { return .markup }
            closeParagraph()
            push(tag)
            if openTemplates == 0 { form = stack[stack.count - 1].id }
        case .li, .dd, .dt:
            // Close the open list item of the same kind, unless a block other than a div, p or
            // address stands between.
            for node in stack.reversed() {
                if kind == .li ? node.is(.li) : node.is(.dd) || node.is(.dt) {
                    generateImpliedEndTags(except: node.kind)
                    popUntil(node.kind)
                    break
                }
                if node.isSpecial && !node.is(.address) && !node.is(.div) && !node.is(.p) { break }
            }
            closeParagraph()
            push(tag)
        case .button:
            if inScope(.button) {
                generateImpliedEndTags()
                popUntil(.button)
            }
            push(tag)
        case .a:
            // An `<a>` still active ends first.
            if let open = formatting.last(.a) {
                adoptionAgency(.a, name: tag.name)
                // Still open: not in scope, which a browser takes off the stack with what is open
                // inside it left open; here it closes with them.
                if isOpen[open.id] && closeFormatting(open) { depart(.adoptionAgency) }
                formatting.remove(id: open.id)
            }
            reconstructFormatting()
            pushFormatting(tag)
        case .nobr:
            reconstructFormatting()
            if inScope(.nobr) {
                adoptionAgency(.nobr, name: tag.name)
                reconstructFormatting()
            }
            pushFormatting(tag)
        case .b, .big, .code, .em, .font, .i, .s, .small, .strike, .strong, .tt, .u:
            reconstructFormatting()
            pushFormatting(tag)
        case .applet, .marquee, .object:
            reconstructFormatting()
            push(tag)
            formatting.appendMarker()
        case .hr:
            closeParagraph()
            insertVoid(tag)
        case .image:
            reconstructFormatting()
            var img = tag
            img.kind = .img
            img.name = ElementKind.img.cName
            insertVoid(img)
        case .optgroup, .option:
            if let top = stack.last, top.is(.option) { pop() }
            reconstructFormatting()
            push(tag)
        case .rb, .rtc:
            if inScope(.ruby) { generateImpliedEndTags() }
            push(tag)
        case .rp, .rt:
            if inScope(.ruby) { generateImpliedEndTags(except: .rtc) }
            push(tag)
        case .math, .svg:
            reconstructFormatting()
            insertForeign(tag, in: kind == .svg ? .svg : .math)
        case .caption, .col, .colgroup, .tbody, .td, .tfoot, .th, .thead, .tr:
            // A table part inside a cell or caption closes it; outside a table it is ignored.
            if inScope(.td, .table) || inScope(.th, .table) {
                generateImpliedEndTags()
                popUntil { $0.is(.td) || $0.is(.th) }
                return bodyStart(tag)
            }
            if inScope(.caption, .table) {
                generateImpliedEndTags()
                popUntil(.caption)
                return bodyStart(tag)
            }
            return .markup
        default:
            if kind.traits.contains(.headContent) { return insert(tag) }
            // In quirks mode a table goes inside an open paragraph.
            if kind.traits.contains(.closesParagraph) && !(kind == .table && quirks) { closeParagraph() }
            switch kind {
            case .area, .br, .embed, .img, .keygen, .wbr, .input, .select, .xmp: reconstructFormatting()
            default: if !kind.traits.contains(.special) { reconstructFormatting() }
            }
            return insert(tag)
        }
        return .markup
    }

    /// A start tag directly inside a table, its sections or a row; nil for the in-body rules.
    private mutating func tableStart(_ tag: StartTag) -> ElementKind.Content? {
        switch tag.kind {
        case .caption, .colgroup, .tbody, .thead, .tfoot:
            popUntilTop { $0.is(.table) }
            push(tag)
            if tag.kind == .caption { formatting.appendMarker() }
        case .col:
            popUntilTop { $0.is(.table) }
            push(implied: .colgroup)
            insertVoid(tag)
        case .tr:
            popUntilTop { $0.is(.tbody) || $0.is(.thead) || $0.is(.tfoot) || $0.is(.table) }
            if stack.last?.is(.table) == true { push(implied: .tbody) }
            push(tag)
        case .td, .th:
            popUntilTop { $0.is(.tr) || $0.is(.tbody) || $0.is(.thead) || $0.is(.tfoot) || $0.is(.table) }
            if stack.last?.is(.table) == true { push(implied: .tbody) }
            if stack.last?.is(.tr) != true { push(implied: .tr) }
            push(tag)
            formatting.appendMarker()
        case .table:
            guard inScope(.table, .table) else { return .markup }
            popUntil(.table)
            return bodyStart(tag)
        case .input where tag.isHiddenInput:
            insertVoid(tag)
        case .form:
            guard form == nil && openTemplates == 0 else { return .markup }
            push(tag)
            form = stack[stack.count - 1].id
            pop()
        case .style, .script, .template:
            return nil
        default:
            depart(.fosterParenting)
            return nil
        }
        return .markup
    }

    private mutating func bodyEnd(name: UnsafePointer<UInt8>, kind: ElementKind) {
        if inSelect { return selectEnd(name: name, kind: kind) }
        switch kind {
        case .body, .html, .head, .col, .frameset:
            return
        case .p:
            if !inScope(.p, .button) {
                if stack.last?.isTablePart == true { depart(.fosterParenting) }
                push(implied: .p)
            }
            generateImpliedEndTags(except: .p)
            popUntil(.p)
        case .li:
            guard inScope(.li, .listItem) else { return }
            generateImpliedEndTags(except: .li)
            popUntil(.li)
        case .form:
            // Inside a template, the nearest form in scope; elsewhere, the form element pointer's.
            let pointer = openTemplates > 0 ? stack.last(where: { $0.is(.form) })?.id : form
            if openTemplates == 0 { form = nil }
            guard let pointer, isOpen[pointer], inScope(where: { $0.id == pointer }) else { return }
            generateImpliedEndTags()
            // A browser takes only the form off the stack, leaving what is open inside it open.
            if stack.last?.id != pointer { depart(.formEnd) }
            popUntil { $0.id == pointer }
        case .dd, .dt, .applet, .marquee, .object:
            guard inScope(kind) else { return }
            generateImpliedEndTags(except: kind)
            popUntil(kind)
        case .h1, .h2, .h3, .h4, .h5, .h6:
            guard inScope(where: { $0.traits.contains(.heading) }) else { return }
            generateImpliedEndTags()
            popUntil { $0.traits.contains(.heading) }
        case .br:
            if stack.last?.isTablePart == true { depart(.fosterParenting) }
            insertVoid(StartTag(name: ElementKind.br.cName, kind: .br))
        case .table, .tbody, .thead, .tfoot, .tr, .caption:
            guard inScope(kind, .table) else { return }
            if kind == .caption { generateImpliedEndTags() }
            popUntil(kind)
        case .td, .th:
            guard inScope(kind, .table) else { return }
            generateImpliedEndTags()
            popUntil(kind)
        case .colgroup:
            if stack.last?.is(.colgroup) == true { pop() }
        case .a, .b, .big, .code, .em, .font, .i, .nobr, .s, .small, .strike, .strong, .tt, .u:
            adoptionAgency(kind, name: name)
        default:
            if kind.traits.contains(.closesBlock) {
                guard inScope(kind) else { return }
                generateImpliedEndTags()
                popUntil(kind)
                return
            }
            closeNearest(name)
        }
    }

    /// Any other end tag: closes the nearest open HTML element named `name`, unless a special
    /// element is open inside it.
    private mutating func closeNearest(_ name: UnsafePointer<UInt8>) {
        for index in stack.indices.reversed() {
            let node = stack[index]
            if node.name == name && node.namespace == .html {
                generateImpliedEndTags(except: node.kind == .other ? nil : node.kind)
                while stack.count > index { pop() }
                return
            }
            if node.isSpecial { return }
        }
    }

    // MARK: In select

    /// A start tag while a `<select>` is open: options and option groups, a horizontal rule, the
    /// end of the select where a form control or (in a table) a table part starts; any other
    /// start tag is left out.
    private mutating func selectStart(_ tag: StartTag) -> ElementKind.Content {
        switch tag.kind {
        case .option:
            if stack.last?.is(.option) == true { pop() }
            push(tag)
        case .optgroup, .hr:
            if stack.last?.is(.option) == true { pop() }
            if stack.last?.is(.optgroup) == true { pop() }
            if tag.kind == .hr { insertVoid(tag) } else { push(tag) }
        case .select:
            popUntil(.select)
        case .input, .keygen, .textarea:
            popUntil(.select)
            return bodyStart(tag)
        case .caption, .table, .tbody, .tfoot, .thead, .tr, .td, .th:
            guard selectInTable else { return .markup }
            popUntil(.select)
            return bodyStart(tag)
        case .script:
            return insert(tag)
        case .template:
            depart(.template)
            return insert(tag)
        case .html:
            return secondRoot(tag)
        default:
            break
        }
        return .markup
    }

    /// An end tag while a `<select>` is open.
    private mutating func selectEnd(name: UnsafePointer<UInt8>, kind: ElementKind) {
        switch kind {
        case .optgroup:
            if stack.last?.is(.option) == true && stack.count > 1 && stack[stack.count - 2].is(.optgroup) { pop() }
            if stack.last?.is(.optgroup) == true { pop() }
        case .option:
            if stack.last?.is(.option) == true { pop() }
        case .select:
            popUntil(.select)
        case .caption, .table, .tbody, .tfoot, .thead, .tr, .td, .th:
            guard selectInTable, inScope(kind, .table) else { return }
            popUntil(.select)
            bodyEnd(name: name, kind: kind)
        default:
            break
        }
    }

    /// `</template>`: closes the innermost open template and what is open inside it.
    private mutating func endTemplate() {
        guard openTemplates > 0 else { return }
        popUntil(.template)
    }

    /// A second `<html>` or `<body>` start tag: its attributes go to the sink, for the element
    /// open since (a `<body>` only while the body is the second element open).
    private mutating func secondRoot(_ tag: StartTag) -> ElementKind.Content {
        guard let attributes = tag.attributes, openTemplates == 0 else { return .markup }
        if tag.kind == .html || (stack.count > 1 && stack[1].is(.body)) { handOnAttributes(attributes, to: tag.kind) }
        return .markup
    }

    private static func isMathGlyph(_ name: UnsafePointer<UInt8>) -> Bool {
        strcmp(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), "mglyph") == 0
            || strcmp(UnsafeRawPointer(name).assumingMemoryBound(to: CChar.self), "malignmark") == 0
    }

    // MARK: Formatting elements

    /// The adoption agency algorithm (WHATWG HTML 13.2.6.4.7) for a formatting element's end tag,
    /// or for `<a>` or `<nobr>` while one is open: the formatting element closes with what is
    /// open inside it. When a block is open inside it (the furthest block), a browser moves the
    /// block out of the formatting element and wraps the block's content in a new one with the
    /// same attributes (`<a href=x><div>text</a>more` is `<a href=x></a><div><a
    /// href=x>text</a>more</div>`). The builder makes that move where the block is open right
    /// inside the formatting element (``moveOut(_:at:)``), again for each block open right inside
    /// the new one; others it does not make: it departs (``Departure/adoptionAgency``), and the
    /// block closes with the formatting element (which keeps the tree as shallow as the browser's).
    private mutating func adoptionAgency(_ kind: ElementKind, name: UnsafePointer<UInt8>) {
        if let top = stack.last, top.is(kind), !formatting.contains(id: top.id) {
            pop()
            return
        }
        for _ in 0..<8 {
            guard let entry = formatting.last(kind) else { return closeNearest(name) }
            guard isOpen[entry.id] else { return formatting.remove(id: entry.id) }
            guard inScope(where: { $0.id == entry.id }), let index = stack.lastIndex(where: { $0.id == entry.id }) else { return }
            if let block = stack[(index + 1)...].firstIndex(where: \.isSpecial) {
                if block == index + 1 && moveOut(entry, at: index) { continue }
                depart(.adoptionAgency)
            }
            while stack.count > index { pop() }
            return formatting.remove(id: entry.id)
        }
    }

    /// One step of the adoption agency for the formatting element `entry`, open at `index` on the
    /// stack, with the furthest block open right above it: the block moves out to the element
    /// below the formatting element, which ends there, and a new one with the same name and
    /// attributes takes the block's place around the block's content (taking the old one's place
    /// in the list of active formatting elements). For the sink, whose events since the block
    /// started are held (``HeldEvents``): an end before the block's start, and the new element's
    /// start after it. False, with nothing changed, where the block would be foster-parented (the
    /// element below is part of a table) or goes into a template's content, or its start was
    /// handed on already.
    private mutating func moveOut(_ entry: ActiveFormattingElements.Entry, at index: Int) -> Bool {
        let block = stack[index + 1]
        guard index > 0, !stack[index - 1].isTablePart, !stack[index - 1].is(.template), block.heldAt >= 0,
            held != nil, !isMuted
        else { return false }
        let clone = Node(name: entry.name, kind: entry.kind, namespace: .html, id: isOpen.count)
        held!.insertEnd(before: block.heldAt)
        held!.insertStart(entry.name, attributeBytes: formatting.attributeList(entry), after: block.heldAt)
        isOpen[stack[index].id] = false
        stack.remove(at: index)
        stack.insert(clone, at: index + 1)
        isOpen.append(true)
        formatting.replace(id: entry.id, with: clone.id)
        return true
    }

    /// Closes the open formatting element `entry` and what is open inside it; returns whether a
    /// special element was open inside it (where a browser would have moved nodes).
    private mutating func closeFormatting(_ entry: ActiveFormattingElements.Entry) -> Bool {
        guard isOpen[entry.id], let index = stack.lastIndex(where: { $0.id == entry.id }) else { return false }
        let moves = stack[(index + 1)...].contains(where: \.isSpecial)
        while stack.count > index { pop() }
        return moves
    }

    private mutating func pushFormatting(_ tag: StartTag) {
        push(tag)
        formatting.append(id: stack[stack.count - 1].id, name: tag.name, kind: tag.kind, attributes: tag.attributes)
    }

    /// Reopens the formatting elements that markup closed while they were active (`<p><a
    /// href=…>link</p>more`: "more" is in a new `<a>` with the same attributes).
    private mutating func reconstructFormatting() {
        guard let last = formatting.entries.last, !last.isMarker, !isOpen[last.id] else { return }
        var first = formatting.entries.count - 1
        while first > 0 {
            let previous = formatting.entries[first - 1]
            if previous.isMarker || isOpen[previous.id] { break }
            first -= 1
        }
        for index in first..<formatting.entries.count {
            let entry = formatting.entries[index]
            let attributes = formatting.attributeList(entry)
            attributes.withUnsafeBufferPointer { bytes in
                var list: [UnsafePointer<UInt8>?] = []
                var at = 0
                while at < bytes.count {
                    list.append(bytes.baseAddress! + at)
                    while bytes[at] != 0 { at += 1 }
                    at += 1
                }
                list.append(nil)
                list.withUnsafeMutableBufferPointer { list in
                    push(StartTag(name: entry.name, kind: entry.kind, attributes: list.count > 1 ? list.baseAddress : nil))
                }
            }
            formatting.entries[index].id = stack[stack.count - 1].id
        }
    }

    // MARK: The sink

    private mutating func handOnStart(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ namespace: Namespace) {
        if isMuted { return }
        let svg: Bool? = namespace == .html ? nil : namespace == .svg
        if held != nil {
            held!.start(name, attributes, svg: svg)
        } else if let svg {
            sink.startForeign(name, attributes, svg: svg)
        } else {
            sink.start(name, attributes)
        }
    }

    private mutating func handOnEnd() {
        if isMuted { return }
        if held != nil { held!.end() } else { sink.end() }
    }

    private mutating func handOnCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        if isMuted { return }
        if held != nil { held!.characters(text, length) } else { sink.characters(text, length) }
    }

    private mutating func handOnRawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        if isMuted { return }
        if held != nil { held!.rawCharacters(text, length) } else { sink.rawCharacters(text, length) }
    }

    private mutating func handOnAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {
        if isMuted { return }
        if held != nil { held!.addAttributes(attributes, to: root) } else { sink.addAttributes(attributes, to: root) }
    }

    /// The held block has ended (or the document has): its events, moved where the adoption
    /// agency put them, go on to the sink.
    private mutating func handOnHeld() {
        guard let events = held else { return }
        held = nil
        heldRoot = -1
        if !isMuted { events.handOn(to: &sink) }
    }

    // MARK: The stack

    private mutating func push(_ tag: StartTag, namespace: Namespace = .html) {
        var node = Node(name: tag.name, kind: tag.kind, namespace: namespace, id: isOpen.count)
        // A block opening right inside an active formatting element: hold the events back, in
        // case the adoption agency moves the block out (``HeldEvents``).
        if held == nil && !isMuted && node.isSpecial, let top = stack.last, top.traits.contains(.formatting),
            formatting.contains(id: top.id)
        {
            held = HeldEvents()
            heldRoot = node.id
        }
        node.heldAt = held?.count ?? -1
        handOnStart(tag.name, tag.attributes, namespace)
        stack.append(node)
        isOpen.append(true)
        if namespace == .html && tag.kind == .select {
            inSelect = true
            selectInTable = inScope(.table, .table)
        }
        if namespace == .html && tag.kind == .template { openTemplates += 1 }
    }

    private mutating func push(implied kind: ElementKind) {
        push(StartTag(name: kind.cName, kind: kind))
    }

    private mutating func pop() {
        let node = stack.removeLast()
        isOpen[node.id] = false
        handOnEnd()
        if node.id == heldRoot { handOnHeld() }
        if node.namespace == .html {
            switch node.kind {
            case .applet, .marquee, .object, .td, .th, .caption: formatting.clearToLastMarker()
            case .template:
                formatting.clearToLastMarker()
                openTemplates -= 1
            case .select: inSelect = false
            default: break
            }
        }
    }

    /// Inserts an element and says how its content is read; a void element ends at once.
    private mutating func insert(_ tag: StartTag) -> ElementKind.Content {
        if tag.kind.traits.contains(.void) {
            insertVoid(tag)
            return .markup
        }
        push(tag)
        if tag.kind == .template {
            if !Sink.skipsTemplateContent { depart(.template) }
            formatting.appendMarker()
        }
        if tag.kind == .textarea || tag.kind == .pre || tag.kind == .listing { dropsNewline = true }
        return tag.kind.content
    }

    private mutating func insertVoid(_ tag: StartTag) {
        handOnStart(tag.name, tag.attributes, .html)
        handOnEnd()
    }

    private mutating func insertForeign(_ tag: StartTag, in namespace: Namespace) {
        if tag.kind == .annotationXML { depart(.annotationXML) }
        push(tag, namespace: namespace)
        if tag.selfClosing { pop() }
    }

    /// Ends whatever the markup left open inside the head, and takes the head off the stack; the
    /// sink sees it end at ``endHead()``.
    private mutating func popHead() {
        guard stack.contains(where: { $0.is(.head) }) else { return }
        while let top = stack.last, !top.is(.head) { pop() }
        isOpen[stack.removeLast().id] = false
        headEndPending = true
    }

    /// Ends the head for the sink, once nothing more can go into it, and hands on the whitespace
    /// that followed it. A head-content element the document's end left open ends first.
    private mutating func endHead() {
        guard headEndPending else { return }
        headEndPending = false
        while stack.count > 1 { pop() }
        handOnEnd()
        guard !afterHeadWhitespace.isEmpty else { return }
        afterHeadWhitespace.withUnsafeBufferPointer { handOnCharacters($0.baseAddress!, $0.count) }
        afterHeadWhitespace.removeAll()
    }

    private mutating func popUntil(_ kind: ElementKind) {
        popUntil { $0.is(kind) }
    }

    /// Pops elements up to and including the nearest that `matches`.
    private mutating func popUntil(_ matches: (Node) -> Bool) {
        while let top = stack.last {
            pop()
            if matches(top) { return }
        }
    }

    /// Pops elements until the one on top `matches` (or is `<html>` or `<template>`).
    private mutating func popUntilTop(_ matches: (Node) -> Bool) {
        while let top = stack.last, !matches(top), !top.is(.html), !top.is(.template) { pop() }
    }

    private mutating func closeParagraph() {
        guard inScope(.p, .button) else { return }
        generateImpliedEndTags(except: .p)
        popUntil(.p)
    }

    private mutating func generateImpliedEndTags(except kind: ElementKind? = nil) {
        while let top = stack.last, top.traits.contains(.impliedEnd), top.kind != kind {
            pop()
        }
    }

    /// Whether an HTML element of `kind` is open within `scope`.
    func inScope(_ kind: ElementKind, _ scope: Scope = .normal) -> Bool {
        inScope(where: { $0.is(kind) }, scope)
    }

    func inScope(where matches: (Node) -> Bool, _ scope: Scope = .normal) -> Bool {
        for node in stack.reversed() {
            if matches(node) { return true }
            switch scope {
            case .normal: if node.isScopeBoundary { return false }
            case .listItem: if node.isScopeBoundary || node.is(.ol) || node.is(.ul) { return false }
            case .button: if node.isScopeBoundary || node.is(.button) { return false }
            case .table: if node.is(.html) || node.is(.table) || node.is(.template) { return false }
            }
        }
        return false
    }

    static func isBlank(_ text: UnsafePointer<UInt8>, _ length: Int) -> Bool {
        for index in 0..<length where !MarkupBytes.isWhitespace(text[index]) { return false }
        return true
    }

}

/// HTML's list of active formatting elements: the formatting elements open (or closed by other
/// markup) since the last marker, which a cell, caption, `<object>`… sets, with the attributes
/// to reopen them with.
struct ActiveFormattingElements {
    struct Entry {
        /// The element (see ``TreeBuilder/Node/id``); -1 for a marker.
        var id: Int
        var name: UnsafePointer<UInt8>
        var kind: ElementKind
        /// Its attributes in ``ActiveFormattingElements/arena``: `name NUL value NUL …`.
        var attributes: Range<Int>

        var isMarker: Bool { id < 0 }
    }

    var entries: [Entry] = []
    private var arena: [UInt8] = []

    mutating func appendMarker() {
        entries.append(Entry(id: -1, name: ElementKind.other.cName, kind: .other, attributes: 0..<0))
    }

    mutating func clearToLastMarker() {
        while let last = entries.popLast(), !last.isMarker {}
        if entries.isEmpty { arena.removeAll(keepingCapacity: true) }
    }

    /// The last entry of `kind` after the last marker.
    func last(_ kind: ElementKind) -> Entry? {
        for entry in entries.reversed() {
            if entry.isMarker { return nil }
            if entry.kind == kind { return entry }
        }
        return nil
    }

    func contains(id: Int) -> Bool { entries.contains { $0.id == id } }

    /// The entry of element `id` stands for element `newID` (a new element made for it).
    mutating func replace(id: Int, with newID: Int) {
        if let index = entries.lastIndex(where: { $0.id == id }) { entries[index].id = newID }
    }

    mutating func remove(id: Int) {
        if let index = entries.lastIndex(where: { $0.id == id }) { entries.remove(at: index) }
        if entries.isEmpty { arena.removeAll(keepingCapacity: true) }
    }

    /// The most entries after the last marker: past it the earliest goes. A browser keeps them
    /// all, and a page of `<p><b id=N>…</p>` repeated would have each text reopen every one of
    /// them (quadratic); no page a person reads has more than a few open at once.
    static let limit = 16

    /// Adds an element just opened; of three earlier entries after the last marker with the same
    /// name and attributes (the "Noah's Ark" clause), the first goes, and past ``limit``, the
    /// earliest.
    mutating func append(id: Int, name: UnsafePointer<UInt8>, kind: ElementKind, attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?) {
        let start = arena.count
        if let attributes {
            var index = 0
            while let string = attributes[index] {
                arena.append(contentsOf: UnsafeBufferPointer(start: string, count: strlen(UnsafeRawPointer(string).assumingMemoryBound(to: CChar.self)) + 1))
                index += 1
            }
        }
        let entry = Entry(id: id, name: name, kind: kind, attributes: start..<arena.count)
        var same: [Int] = []
        for index in entries.indices.reversed() {
            if entries[index].isMarker { break }
            if entries[index].name == name && arena[entries[index].attributes] == arena[entry.attributes] { same.append(index) }
        }
        if same.count >= 3 { entries.remove(at: same[same.count - 1]) }
        let marker = entries.lastIndex(where: \.isMarker) ?? -1
        if entries.count - marker - 1 >= Self.limit { entries.remove(at: marker + 1) }
        entries.append(entry)
    }

    /// The attribute bytes of `entry`.
    func attributeList(_ entry: Entry) -> [UInt8] { Array(arena[entry.attributes]) }
}
