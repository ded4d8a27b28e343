/// The HTML elements the parse stage tells apart; everything else is ``other`` (inline).
enum Tag: UInt8, Sendable {
    case html, head, body, title, meta, link, base, script, style
    case div, p, section, article, main, header, footer, nav, aside, form
    case h1, h2, h3, h4, h5, h6
    case ul, ol, li, dl, dt, dd, menu
    case table, tbody, thead, tfoot, tr, td, th, caption
    case blockquote, pre, figure, figcaption, address, center, details, summary, hgroup, fieldset
    case br, hr, a, img, time
    case noscript, template, svg, math, iframe, object, embed, canvas, select, textarea, button
    case input, option, video, audio, map, dialog
    case other
    /// An unknown element with a `-` in its name (`<article-body>`): treated as a container.
    case custom

    private static let byName: [String: Tag] = {
        var table: [String: Tag] = [:]
        let all: [Tag] = [
            .html, .head, .body, .title, .meta, .link, .base, .script, .style, .div, .p, .section, .article,
            .main, .header, .footer, .nav, .aside, .form, .h1, .h2, .h3, .h4, .h5, .h6, .ul, .ol, .li, .dl,
            .dt, .dd, .menu, .table, .tbody, .thead, .tfoot, .tr, .td, .th, .caption, .blockquote, .pre,
            .figure, .figcaption, .address, .center, .details, .summary, .hgroup, .fieldset, .br, .hr, .a,
            .img, .time, .noscript, .template, .svg, .math, .iframe, .object, .embed, .canvas, .select,
            .textarea, .button, .input, .option, .video, .audio, .map, .dialog,
        ]
        for tag in all { table["\(tag)"] = tag }
        return table
    }()

    /// The tag for a lower-case element name, as the tree builders report it.
    init(name: String) {
        if let tag = Tag.byName[name] {
            self = tag
        } else {
            self = name.contains("-") ? .custom : .other
        }
    }

    var isHeading: Bool { rawValue >= Tag.h1.rawValue && rawValue <= Tag.h6.rawValue }

    /// Elements whose subtree is never text of the page. (`noscript` is read: some sites, such as
    /// Discourse forums, serve their whole content inside it.)
    var isSkipped: Bool {
        switch self {
        case .style, .template, .svg, .math, .iframe, .object, .embed, .canvas, .select,
            .textarea, .button, .input, .option, .video, .audio, .map, .dialog:
            true
        default: false
        }
    }

    /// Elements that start a new block of text.
    var isBlock: Bool {
        switch self {
        case .html, .body, .div, .p, .section, .article, .main, .header, .footer, .nav, .aside, .form, .h1,
            .h2, .h3, .h4, .h5, .h6, .ul, .ol, .li, .dl, .dt, .dd, .menu, .table, .tbody, .thead, .tfoot,
            .tr, .td, .th, .caption, .blockquote, .pre, .figure, .figcaption, .address, .center, .details,
            .summary, .hgroup, .fieldset, .custom, .noscript:
            true
        default: false
        }
    }

    /// 1–6 for headings, 0 otherwise.
    var headingLevel: UInt8 {
        switch self {
        case .h1: 1
        case .h2: 2
        case .h3: 3
        case .h4: 4
        case .h5: 5
        case .h6: 6
        default: 0
        }
    }
}
