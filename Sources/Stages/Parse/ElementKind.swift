import RunnelProtocol

/// The element names HTML's tree construction treats apart (WHATWG HTML 13.2.6), and what the
/// algorithm says of each; every other name is ``other``. The names are the tokenizer's, in
/// lower case (`foreignobject`, `annotation-xml`).
enum ElementKind: UInt8, CaseIterable, Sendable {
    case other
    case html, head, body, frameset, frame, title, base, basefont, bgsound, link, meta, noframes, script, style
    case template, noscript
    case address, article, aside, blockquote, center, details, dialog, dir, div, dl, fieldset, figcaption, figure
    case footer, header, hgroup, main, menu, nav, ol, p, search, section, summary, ul
    case h1, h2, h3, h4, h5, h6
    case pre, listing, form, li, dd, dt, plaintext, button
    case a, b, big, code, em, font, i, s, small, strike, strong, tt, u, nobr
    case applet, marquee, object
    case table, caption, colgroup, col, tbody, thead, tfoot, tr, td, th
    case area, br, embed, img, image, keygen, wbr, input, param, source, track, hr
    case textarea, xmp, iframe, noembed, select, optgroup, option
    case rb, rp, rt, rtc, ruby
    case math, svg, mi, mo, mn, ms, mtext, annotationXML, foreignObject, desc
    case span, sub, sup, `var`

    /// The name as the tokenizer spells it.
    var name: String {
        switch self {
        case .annotationXML: "annotation-xml"
        case .foreignObject: "foreignobject"
        default: "\(self)"
        }
    }

    /// What the algorithm says of a name, one bit per list of the spec.
    struct Traits: OptionSet, Sendable {
        let rawValue: UInt32
        /// The "special" category (of HTML elements; SVG's and MathML's are
        /// ``TreeBuilder/Node/isSpecial``): an end tag of another name never closes through it.
        static let special = Traits(rawValue: 1 << 0)
        /// No end tag and no content.
        static let void = Traits(rawValue: 1 << 1)
        /// The formatting elements (`<b>`, `<a>`…).
        static let formatting = Traits(rawValue: 1 << 2)
        /// Closed by "generate implied end tags".
        static let impliedEnd = Traits(rawValue: 1 << 3)
        /// A start tag that first closes an open `<p>` in button scope.
        static let closesParagraph = Traits(rawValue: 1 << 4)
        /// An end tag that, when its element is in scope, closes back to it.
        static let closesBlock = Traits(rawValue: 1 << 5)
        /// An HTML element that bounds "has an element in scope" (SVG's and MathML's are
        /// ``TreeBuilder/Node/isScopeBoundary``).
        static let scopeBoundary = Traits(rawValue: 1 << 6)
        static let heading = Traits(rawValue: 1 << 7)
        /// The parts of a table a table's own insertion modes place (`<tr>`, `<td>`, `<caption>`…).
        static let tablePart = Traits(rawValue: 1 << 8)
        /// A start tag that leaves SVG or MathML content (`<div>`, `<p>`, `<b>`… inside `<svg>`).
        static let breaksOutOfForeign = Traits(rawValue: 1 << 9)
        /// Processed with the "in head" rules wherever it comes (`<meta>`, `<script>`…).
        static let headContent = Traits(rawValue: 1 << 10)
    }

    var traits: Traits { Self.traitTable[Int(rawValue)] }

    private static let traitTable: [Traits] = {
        var table = [Traits](repeating: [], count: allCases.count)
        func mark(_ kinds: [ElementKind], _ traits: Traits) {
            for kind in kinds { table[Int(kind.rawValue)].formUnion(traits) }
        }
        let headings: [ElementKind] = [.h1, .h2, .h3, .h4, .h5, .h6]
        let blocks: [ElementKind] = [
            .address, .article, .aside, .blockquote, .center, .details, .dialog, .dir, .div, .dl, .fieldset,
            .figcaption, .figure, .footer, .header, .hgroup, .main, .menu, .nav, .ol, .p, .search, .section,
            .summary, .ul,
        ]
        mark(headings, .heading)
        mark(
            blocks + headings + [
                .html, .head, .body, .frameset, .frame, .title, .base, .basefont, .bgsound, .link, .meta,
                .noframes, .script, .style, .template, .noscript, .pre, .listing, .form, .li, .dd, .dt, .plaintext,
                .button, .applet, .marquee, .object, .table, .caption, .colgroup, .col, .tbody, .thead, .tfoot,
                .tr, .td, .th, .area, .br, .embed, .img, .keygen, .wbr, .input, .param, .source, .track, .hr,
                .textarea, .xmp, .iframe, .noembed, .select,
            ], .special)
        mark(
            [.area, .base, .basefont, .bgsound, .br, .col, .embed, .frame, .hr, .image, .img, .input, .keygen, .link,
             .meta, .param, .source, .track, .wbr], .void)
        mark([.a, .b, .big, .code, .em, .font, .i, .nobr, .s, .small, .strike, .strong, .tt, .u], .formatting)
        mark([.dd, .dt, .li, .optgroup, .option, .p, .rb, .rp, .rt, .rtc], .impliedEnd)
        mark(blocks + headings + [.pre, .listing, .form, .li, .dd, .dt, .plaintext, .table, .hr, .xmp], .closesParagraph)
        mark(blocks.filter { $0 != .p } + [.button, .listing, .pre], .closesBlock)
        mark([.applet, .caption, .html, .table, .td, .th, .marquee, .object, .template], .scopeBoundary)
        mark([.caption, .col, .colgroup, .tbody, .td, .tfoot, .th, .thead, .tr], .tablePart)
        mark(
            headings + [
                .b, .big, .blockquote, .body, .br, .center, .code, .dd, .div, .dl, .dt, .em, .embed, .head, .hr,
                .i, .img, .li, .listing, .menu, .meta, .nobr, .ol, .p, .pre, .ruby, .s, .small, .span, .strike,
                .strong, .sub, .sup, .table, .tt, .u, .ul, .var, .font,
            ], .breaksOutOfForeign)
        mark([.base, .basefont, .bgsound, .link, .meta, .noframes, .script, .style, .template, .title], .headContent)
        return table
    }()

    /// The kinds by the FNV-1a hash of their names.
    static let byHash: HashedNameTable<ElementKind> = {
        var table = HashedNameTable<ElementKind>(empty: .other, capacity: 512)
        for kind in allCases where kind != .other { table[FNV1a.hash(kind.name.utf8)] = kind }
        return table
    }()

    /// How the tokenizer reads an element's content after its start tag.
    enum Content {
        /// Markup.
        case markup
        /// Text with character references up to the element's end tag (`<title>`, `<textarea>`).
        case escapableText
        /// Text as it is up to the element's end tag (`<style>`, `<xmp>`, `<iframe>`…).
        case rawText
        /// A script's text up to `</script`.
        case script
        /// Text to the end of the document.
        case plaintext
    }

    /// How the content of this (HTML, not SVG or MathML) element is read.
    var content: Content {
        switch self {
        case .title, .textarea: .escapableText
        case .style, .xmp, .iframe, .noembed, .noframes: .rawText
        case .script: .script
        case .plaintext: .plaintext
        default: .markup
        }
    }
}

extension ElementKind {
    /// The name as a NUL-terminated string, one address for the process's lifetime (the walker
    /// keys its tag cache on the address).
    var cName: UnsafePointer<UInt8> { Self.cNames[Int(rawValue)] }

    /// Never freed, never written after it is made.
    nonisolated(unsafe) private static let cNames: [UnsafePointer<UInt8>] = allCases.map { kind in
        let bytes = Array(kind.name.utf8) + [0]
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: bytes.count)
        copy.initialize(from: bytes, count: bytes.count)
        return UnsafePointer(copy)
    }
}
