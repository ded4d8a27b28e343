import CGumbo
import CLibXML2
import Foundation

/// Builds a page's tree the way a browser does — the WHATWG tree-construction algorithm, by
/// gumbo — and replays it to the ``Walker`` as element starts, text and element ends in document
/// order, the same events libxml2's SAX parser gives it.
///
/// gumbo applies the HTML5 rules libxml2's recovery does not: implied end tags, elements in scope
/// (`</button>` closes the `<div>`s opened inside the button), the adoption agency for misnested
/// formatting elements, foster parenting of text and elements misplaced in tables, and the `<p>`
/// and list-item closing rules. The replay is an iterative walk, so a document nested ten thousand
/// levels deep costs heap (the stack of open nodes), not call stack.
enum HTML5TreeConstruction {
    /// gumbo's defaults, recording no parse errors (they are never read, and cost time per page).
    private static func options() -> GumboOptions {
        var options = kGumboDefaultOptions
        options.max_errors = 0
        return options
    }

    /// Parses `html` (UTF-8) with gumbo and hands its document's nodes to `body`.
    /// - Parameters:
    ///   - html: the document.
    ///   - body: reads the document node; the nodes are freed when it returns.
    static func withDocument<Result>(_ html: String, _ body: (UnsafePointer<GumboNode>) -> Result) -> Result? {
        var source = html
        return source.withUTF8 { withDocument($0, body) }
    }

    /// Parses `html` (UTF-8) with gumbo and hands its document's nodes to `body`.
    /// - Parameters:
    ///   - html: the document.
    ///   - body: reads the document node; the nodes are freed when it returns.
    static func withDocument<Result>(_ html: UnsafeBufferPointer<UInt8>, _ body: (UnsafePointer<GumboNode>) -> Result) -> Result? {
        var options = options()
        return html.withMemoryRebound(to: CChar.self) { chars -> Result? in
            guard let base = chars.baseAddress, let output = gumbo_parse_with_options(&options, base, chars.count) else {
                return nil
            }
            defer { gumbo_destroy_output(&options, output) }
            return body(output.pointee.document)
        }
    }

    /// Parses `html` (UTF-8) and replays its document to `walker`.
    static func replay(_ html: UnsafeBufferPointer<UInt8>, into walker: inout Walker) {
        _ = withDocument(html) { document in
            var names = ElementNames()
            defer { names.release() }
            var attributes: [UnsafePointer<xmlChar>?] = []
            // The open elements, each with the index of its next child to visit.
            var stack: [(node: UnsafePointer<GumboNode>, next: Int)] = [(document, 0)]
            while let top = stack.last {
                let children = top.node.children
                guard top.next < Int(children.length) else {
                    stack.removeLast()
                    if !stack.isEmpty { walker.end() }
                    continue
                }
                stack[stack.count - 1].next += 1
                guard let raw = children.data[top.next] else { continue }
                let child = UnsafePointer(raw.assumingMemoryBound(to: GumboNode.self))
                switch child.pointee.type {
                case GUMBO_NODE_ELEMENT, GUMBO_NODE_TEMPLATE:
                    let element = child.pointee.v.element
                    attributes.removeAll(keepingCapacity: true)
                    for index in 0..<Int(element.attributes.length) {
                        guard let attribute = element.attributes.data[index]?.assumingMemoryBound(to: GumboAttribute.self) else { continue }
                        attributes.append(UnsafeRawPointer(attribute.pointee.name).assumingMemoryBound(to: xmlChar.self))
                        attributes.append(UnsafeRawPointer(attribute.pointee.value).assumingMemoryBound(to: xmlChar.self))
                    }
                    attributes.append(nil)
                    let name = names.name(of: child)
                    attributes.withUnsafeMutableBufferPointer { walker.start(name, $0.baseAddress) }
                    stack.append((child, 0))
                case GUMBO_NODE_TEXT, GUMBO_NODE_WHITESPACE, GUMBO_NODE_CDATA:
                    guard let text = child.pointee.v.text.text else { continue }
                    let length = strlen(text)
                    guard length > 0 else { continue }
                    let bytes = UnsafeRawPointer(text).assumingMemoryBound(to: xmlChar.self)
                    // Script and style bodies are raw text, as libxml2's cdataBlock reported them.
                    let parentTag = top.node.pointee.type == GUMBO_NODE_ELEMENT ? top.node.pointee.v.element.tag : GUMBO_TAG_UNKNOWN
                    if parentTag == GUMBO_TAG_SCRIPT || parentTag == GUMBO_TAG_STYLE {
                        walker.rawCharacters(bytes, length)
                    } else {
                        walker.characters(bytes, length)
                    }
                default:
                    continue  // comments, the doctype
                }
            }
        }
    }
}

extension UnsafePointer<GumboNode> {
    /// The children of a document or element node (none for text).
    var children: GumboVector {
        switch pointee.type {
        case GUMBO_NODE_DOCUMENT: pointee.v.document.children
        case GUMBO_NODE_ELEMENT, GUMBO_NODE_TEMPLATE: pointee.v.element.children
        default: GumboVector(data: nil, length: 0, capacity: 0)
        }
    }
}

/// Element names as NUL-terminated lower-case strings whose address is the same for every element
/// of one name, which the walker's tag cache is keyed on: gumbo's static name for the tags it
/// knows, and a copy made once per page for each other name (custom elements, `<my-widget>`).
struct ElementNames {
    private var other: [String: UnsafeMutablePointer<CChar>] = [:]

    /// The name of element `node`.
    mutating func name(of node: UnsafePointer<GumboNode>) -> UnsafePointer<xmlChar> {
        let element = node.pointee.v.element
        if element.tag != GUMBO_TAG_UNKNOWN, let known = gumbo_normalized_tagname(element.tag), known.pointee != 0 {
            return UnsafeRawPointer(known).assumingMemoryBound(to: xmlChar.self)
        }
        let name = Self.originalName(element)
        if let copy = other[name] { return UnsafeRawPointer(copy).assumingMemoryBound(to: xmlChar.self) }
        let copy = strdup(name)!
        other[name] = copy
        return UnsafeRawPointer(copy).assumingMemoryBound(to: xmlChar.self)
    }

    /// The lower-cased name of an element gumbo has no tag for, from its start tag in the source.
    static func originalName(_ element: GumboElement) -> String {
        var piece = element.original_tag
        guard piece.data != nil, piece.length > 0 else { return "unknown" }
        gumbo_tag_from_original_text(&piece)
        guard let data = piece.data else { return "unknown" }
        let bytes = UnsafeRawBufferPointer(start: data, count: piece.length)
        let end = bytes.firstIndex { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0C || $0 == 0x0D || $0 == 0x2F } ?? bytes.count
        let name = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        return name.isEmpty ? "unknown" : name
    }

    /// Frees the copies.
    mutating func release() {
        for copy in other.values { free(copy) }
        other.removeAll()
    }
}
