import CLibXML2
import Glibc
import RunnelProtocol

/// Parses HTML and reduces it to a ``PageTree``: with ``TreeConstruction/native`` (and
/// ``TreeConstruction/automatic``, which the stage resolves per page), by Runnel's own tokenizer
/// and tree builder (``HTMLTokenizer``, ``TreeBuilder``), handing the tree to the walker as it
/// is built; with ``TreeConstruction/html5``, by gumbo, which builds the whole document the way
/// a browser does first (``HTML5TreeConstruction``); with ``TreeConstruction/libxml2``, by
/// libxml2's HTML parser.
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

    /// Calls `body` with `html` without the byte ranges `omitting` (in order; a range that
    /// overlaps the one before it or passes the end is kept).
    private static func withBytes<Result, Failure: Error>(
        of html: UnsafeBufferPointer<UInt8>, omitting: [Range<Int>],
        _ body: (UnsafeBufferPointer<UInt8>) throws(Failure) -> Result
    ) throws(Failure) -> Result {
        guard !omitting.isEmpty else { return try body(html) }
        var kept: [UInt8] = []
        kept.reserveCapacity(max(0, html.count - omitting.reduce(0) { $0 + $1.count }))
        var next = 0
        for range in omitting where range.lowerBound >= next && range.upperBound <= html.count {
            kept.append(contentsOf: UnsafeBufferPointer(rebasing: html[next..<range.lowerBound]))
            next = range.upperBound
        }
        kept.append(contentsOf: UnsafeBufferPointer(rebasing: html[next...]))
        return try kept.withUnsafeBufferPointer { kept in Swift.Result { () throws(Failure) in try body(kept) } }.get()
    }

    /// Parses `html` (UTF-8) and builds its tree.
    /// - Parameters:
    ///   - html: the document; NUL bytes must already be removed.
    ///   - baseURL: the page's URL, against which links are resolved.
    ///   - construction: which parser builds the document.
    ///   - omitting: byte ranges of `html` that libxml2 is not given: the script and style bodies
    ///     the walk never reads (``MarkupScan/unreadBodies``), in order. gumbo reads the whole page.
    ///   - limits: checked by the native builder as it reads (and by the scan before gumbo builds
    ///     a page the native builder handed over); libxml2 and gumbo, when asked for, are given
    ///     pages the caller's scan has checked.
    /// - Throws: ``RunnelError`` `OUT_OF_RANGE` when the page passes a limit.
    static func build(
        html: String, baseURL: String, construction: TreeConstruction = .automatic, omitting: [Range<Int>] = [],
        limits: MarkupLimits = .none
    ) throws(RunnelError) -> PageTree {
        var html = html
        let tree = html.withUTF8 { html in
            Result { () throws(RunnelError) in
                try build(html: html, baseURL: baseURL, construction: construction, omitting: omitting, limits: limits)
            }
        }
        return try tree.get()
    }

    /// Parses `html` (UTF-8, no NUL bytes) and builds its tree; the parameters are those of
    /// ``build(html:baseURL:construction:omitting:limits:)``.
    static func build(
        html: UnsafeBufferPointer<UInt8>, baseURL: String, construction: TreeConstruction = .automatic, omitting: [Range<Int>] = [],
        limits: MarkupLimits = .none
    ) throws(RunnelError) -> PageTree {
        if construction == .html5 {
            var walker = Walker(baseURL: baseURL)
            HTML5TreeConstruction.replay(html, into: &walker)
            walker.finish()
            return walker.tree
        }
        if construction == .native || construction == .automatic {
            var builder = TreeBuilder(sink: Walker(baseURL: baseURL), onDeparture: construction == .automatic ? .mute : .goOn)
            var unreadBodies: [Range<Int>] = []
            if let refusal = HTMLTokenizer.run(html, into: &builder, limits: limits, unreadBodies: &unreadBodies) { throw refusal }
            // Where the native tree departs from the browser's, gumbo builds the page instead, once the
            // scan has held the whole page to the limits (the tokenizer held it to them on the native
            // tree, which can be shallower than the browser's). gumbo is not given the script and style
            // bodies the walk never reads: the same tree, in about half gumbo's time on these pages.
            if builder.departs && construction == .automatic {
                if limits != .none { _ = try MarkupScan.check(html, against: limits, collectingUnread: false) }
                return try Self.withBytes(of: html, omitting: unreadBodies) { kept throws(RunnelError) in
                    try build(html: kept, baseURL: baseURL, construction: .html5)
                }
            }
            var walker = builder.finished()
            walker.finish()
            return walker.tree
        }
        _ = initialized
        var walker = Walker(baseURL: baseURL)
        guard !html.isEmpty, let context = htmlNewParserCtxt() else { return walker.tree }
        defer { htmlFreeParserCtxt(context) }
        context.pointee.sax.pointee = makeHandler()
        let parse = { (bytes: UnsafeBufferPointer<UInt8>) in
            bytes.withMemoryRebound(to: CChar.self) { chars in
                // The callbacks build no libxml2 document; should one come back all the same, free it.
                if let doc = htmlCtxtReadMemory(context, chars.baseAddress, Int32(chars.count), nil, "UTF-8", parseOptions) {
                    xmlFreeDoc(doc)
                }
            }
        }
        withUnsafeMutablePointer(to: &walker) { pointer in
            context.pointee._private = UnsafeMutableRawPointer(pointer)
            defer { context.pointee._private = nil }
            Self.withBytes(of: html, omitting: omitting, parse)
        }
        walker.finish()
        return walker.tree
    }
}
