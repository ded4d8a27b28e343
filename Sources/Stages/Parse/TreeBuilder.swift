import Glibc

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

    enum Mode { case beforeHTML, beforeHead, inHead, inHeadNoscript, afterHead, inBody }

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

    var sink: Sink
    var mode = Mode.beforeHTML
    var stack: [Node] = []
    /// Per element inserted, whether it is still open.
    var isOpen: [Bool] = []
    var formatting = ActiveFormattingElements()
    /// The form element pointer: the `<form>` that start and end tags of forms refer to.
    var form: Int?
    /// Whether a `<select>` is open ("in select"), and whether it was opened inside a table ("in
    /// select in table").
    var inSelect = false
    var selectInTable = false
    /// Whether the head is off the stack but not yet ended for the sink: until the body starts,
    /// head content may still come, which goes into the head ("after head").
    var headEndPending = false
    /// Whitespace after `</head>`, which goes after the head once it ends for the sink.
    var afterHeadWhitespace: [UInt8] = []
    /// How many `<template>` elements are open: their content takes the "in body" rules,
    /// whatever the mode (see the type's comment).
    var openTemplates = 0
    /// The first markup where a browser builds another tree (see the type's comment): the tree
    /// handed to the sink is not the browser's from there on. Nil while it is.
    var departure: Departure?
    /// What happens at a ``departure``.
    let onDeparture: OnDeparture
    /// The events held back from the sink while a block is open right inside a formatting
    /// element, and that block (``HeldEvents``); nil and -1 while events go straight on.
    var held: HeldEvents?
    var heldRoot = -1
    /// After `<pre>`, `<listing>` and `<textarea>`: a newline right after the start tag is not text.
    var dropsNewline = false
    /// Whether the document is in quirks mode: no doctype before the first element or text, or
    /// one that says so (``Doctype/isQuirks``).
    var quirks = true
    var doctypeSeen = false

    /// Whether a doctype here sets the document's mode (nothing but comments and whitespace before it).
    var awaitsDoctype: Bool { mode == .beforeHTML && !doctypeSeen }

    /// Whether the tree departs from the browser's (``departure``).
    var departs: Bool { departure != nil }

    /// Whether the tokenizer stops here.
    var stops: Bool { departure != nil && onDeparture == .stop }

    /// Whether the sink is handed nothing more (``OnDeparture/mute``).
    var isMuted: Bool { departure != nil && onDeparture == .mute }

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

    mutating func depart(_ why: Departure) {
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
    mutating func stepTowardsBody() {
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
    mutating func dropNewline(_ text: inout UnsafePointer<UInt8>, _ length: inout Int) {
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
}
