import CGumbo
import Foundation

extension HTML5TreeConstruction {
    /// The document gumbo builds for `html`, written in the html5lib-tests tree-construction format
    /// (the lines of a `#document` section, without the trailing newline): how the conformance test
    /// compares the tree with the browser's.
    ///
    /// ```
    /// | <html>
    /// |   <head>
    /// |   <body>
    /// |     <p>
    /// |       class="a"
    /// |       "text"
    /// ```
    static func testFormat(_ html: String) -> String {
        withDocument(html) { document in
            var lines: [String] = []
            let doc = document.pointee.v.document
            if doc.has_doctype {
                let name = doc.name.map { String(cString: $0) } ?? ""
                let publicID = doc.public_identifier.map { String(cString: $0) } ?? ""
                let systemID = doc.system_identifier.map { String(cString: $0) } ?? ""
                var line = "<!DOCTYPE \(name)"
                if !publicID.isEmpty || !systemID.isEmpty { line += " \"\(publicID)\" \"\(systemID)\"" }
                lines.append("| " + line + ">")
            }
            // Iterative: the nodes still to write, each with its depth; children pushed in reverse.
            var pending: [(node: UnsafePointer<GumboNode>, depth: Int)] = []
            func push(children: GumboVector, depth: Int) {
                for index in stride(from: Int(children.length) - 1, through: 0, by: -1) {
                    if let raw = children.data[index] { pending.append((UnsafePointer(raw.assumingMemoryBound(to: GumboNode.self)), depth)) }
                }
            }
            push(children: document.children, depth: 0)
            var lastTextLine: Int? = nil
            while let (node, depth) = pending.popLast() {
                let indent = "| " + String(repeating: "  ", count: depth)
                switch node.pointee.type {
                case GUMBO_NODE_ELEMENT, GUMBO_NODE_TEMPLATE:
                    lastTextLine = nil
                    let element = node.pointee.v.element
                    lines.append(indent + "<" + qualifiedName(node) + ">")
                    var attributes: [String] = []
                    for index in 0..<Int(element.attributes.length) {
                        guard let attribute = element.attributes.data[index]?.assumingMemoryBound(to: GumboAttribute.self) else { continue }
                        attributes.append(attributeName(attribute.pointee) + "=\"" + String(cString: attribute.pointee.value) + "\"")
                    }
                    for attribute in attributes.sorted() { lines.append(indent + "  " + attribute) }
                    if node.pointee.type == GUMBO_NODE_TEMPLATE {
                        lines.append(indent + "  content")
                        push(children: element.children, depth: depth + 2)
                    } else {
                        push(children: element.children, depth: depth + 1)
                    }
                case GUMBO_NODE_TEXT, GUMBO_NODE_WHITESPACE, GUMBO_NODE_CDATA:
                    let text = node.pointee.v.text.text.map { String(cString: $0) } ?? ""
                    // Adjacent text nodes are one text node in the DOM.
                    if let last = lastTextLine, lines[last].hasPrefix(indent + "\"") {
                        lines[last] = String(lines[last].dropLast()) + text + "\""
                    } else {
                        lines.append(indent + "\"" + text + "\"")
                        lastTextLine = lines.count - 1
                    }
                    continue
                case GUMBO_NODE_COMMENT:
                    lastTextLine = nil
                    let text = node.pointee.v.text.text.map { String(cString: $0) } ?? ""
                    lines.append(indent + "<!-- " + text + " -->")
                default:
                    continue
                }
            }
            return lines.joined(separator: "\n")
        } ?? ""
    }

    /// `svg path`, `math mi` or `div`: the element's name with its namespace when it is foreign.
    private static func qualifiedName(_ node: UnsafePointer<GumboNode>) -> String {
        let element = node.pointee.v.element
        var name: String
        if element.tag != GUMBO_TAG_UNKNOWN, let known = gumbo_normalized_tagname(element.tag), known.pointee != 0 {
            name = String(cString: known)
        } else {
            name = ElementNames.originalName(element)
        }
        switch element.tag_namespace {
        case GUMBO_NAMESPACE_SVG:
            let adjusted: String? = name.withCString { chars in
                var piece = GumboStringPiece(data: chars, length: strlen(chars))
                return gumbo_normalize_svg_tagname(&piece).map { String(cString: $0) }
            }
            if let adjusted { name = adjusted }
            return "svg " + name
        case GUMBO_NAMESPACE_MATHML: return "math " + name
        default: return name
        }
    }

    /// `xlink href` for a namespaced attribute of foreign content, the plain name otherwise.
    private static func attributeName(_ attribute: GumboAttribute) -> String {
        let name = String(cString: attribute.name)
        let local = name.split(separator: ":", maxSplits: 1).last.map(String.init) ?? name
        switch attribute.attr_namespace {
        case GUMBO_ATTR_NAMESPACE_XLINK: return "xlink " + local
        case GUMBO_ATTR_NAMESPACE_XML: return "xml " + local
        case GUMBO_ATTR_NAMESPACE_XMLNS: return name == "xmlns" ? "xmlns" : "xmlns " + local
        default: return name
        }
    }
}
