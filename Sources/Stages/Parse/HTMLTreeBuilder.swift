import CLibXML2
import RunnelProtocol

/// Parses HTML with libxml2 and reduces it, in one iterative walk, to a ``PageTree``.
///
/// The walk follows libxml2's `children`/`next`/`parent` pointers with an explicit stack of open
/// elements, so a document nested ten thousand levels deep costs memory, not call stack.
struct HTMLTreeBuilder {
    /// libxml2 options: recover from errors, print nothing, never touch the network.
    static let parseOptions = Int32(
        HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue)

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    /// Parses `html` (UTF-8) and builds its tree.
    /// - Parameters:
    ///   - html: the document; NUL bytes must already be removed.
    ///   - baseURL: the page's URL, against which links are resolved.
    static func build(html: String, baseURL: String) -> PageTree {
        _ = initialized
        var source = html
        source.makeContiguousUTF8()
        let doc: htmlDocPtr? = source.utf8.withContiguousStorageIfAvailable { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                htmlReadMemory(chars.baseAddress, Int32(chars.count), nil, "UTF-8", parseOptions)
            }
        } ?? nil
        // libxml2 returns no document for an empty or all-whitespace input: a page without text.
        guard let doc else { return PageTree(baseURL: baseURL) }
        defer { xmlFreeDoc(doc) }
        var walker = Walker(baseURL: baseURL)
        walker.walk(doc)
        return walker.tree
    }
}

/// The state of one walk over a libxml2 document.
private struct Walker {
    private struct Open {
        var tag: Tag
        /// The element index this node created, or -1 when it is inline.
        var element: Int32
        var isAnchor = false
        var captureStart: (blocks: Int, offset: Int, hints: Hints)?
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
    private var tagCache: [UnsafeRawPointer: Tag] = [:]
    private var hintCache: [String: Hints] = [:]
    private let resolver: URLResolver

    init(baseURL: String) {
        tree = PageTree(baseURL: baseURL)
        resolver = URLResolver(base: baseURL)
        buffer.reserveCapacity(4096)
    }

    // MARK: Walk

    mutating func walk(_ doc: htmlDocPtr) {
        let docNode = UnsafeMutableRawPointer(doc)
        var node: xmlNodePtr? = doc.pointee.children
        while let n = node {
            var descended = false
            switch n.pointee.type {
            case XML_ELEMENT_NODE:
                if enter(n) {
                    if let child = n.pointee.children {
                        node = child
                        continue
                    }
                    descended = true
                }
            case XML_TEXT_NODE, XML_CDATA_SECTION_NODE:
                if let content = n.pointee.content { appendText(content) }
            default:
                break
            }
            if descended { exit() }
            // Next sibling, or climb until an ancestor has one.
            var m = n
            node = nil
            while true {
                if let next = m.pointee.next {
                    node = next
                    break
                }
                guard let parent = m.pointee.parent, UnsafeMutableRawPointer(parent) != docNode,
                    parent.pointee.type == XML_ELEMENT_NODE
                else { break }
                exit()
                m = parent
            }
        }
        while !stack.isEmpty { exit() }
        flush()
        if let titleBytes { tree.titleText = String(decoding: titleBytes, as: UTF8.self).collapsingWhitespace() }
        resolveBoilerplateAncestors()
    }

    /// Sets each element's nearest excluded ancestor-or-self, now that text lengths are known: a
    /// hinted element that is a large, prose-heavy layout wrapper (`articleWidget…`) is not excluded.
    private mutating func resolveBoilerplateAncestors() {
        for index in tree.elements.indices {
            let element = tree.elements[index]
            var excluded = element.hints.excludesText
            if excluded, !element.hints.contains(.hidden), element.linkDensity < 0.25 {
                // A wrapper: layout words and a lot of prose, or only furniture words (an unclosed
                // nav bar swallowing the page) and even more prose.
                if element.hints.contains(.layout) && element.textLength >= 2000
                    || !element.hints.contains(.boilerplate) && element.textLength >= 4000
                {
                    excluded = false
                }
            }
            if excluded {
                tree.elements[index].boilerplateAncestor = Int32(index)
            } else {
                let parent = element.parent
                tree.elements[index].boilerplateAncestor = parent >= 0 ? tree.elements[Int(parent)].boilerplateAncestor : -1
            }
        }
    }

    // MARK: Elements

    private mutating func tag(of node: xmlNodePtr) -> Tag {
        guard let name = node.pointee.name else { return .other }
        let key = UnsafeRawPointer(name)
        if let tag = tagCache[key] { return tag }
        let tag = Tag(name: String(cString: name).lowercased())
        tagCache[key] = tag
        return tag
    }

    /// Handles an element's start; returns whether to walk into its children.
    private mutating func enter(_ node: xmlNodePtr) -> Bool {
        let tag = tag(of: node)
        var attributes = Attributes()
        attributes.read(node, tag: tag)

        if attributes.hidden && !attributes.streamedContent { return false }
        switch tag {
        case .script:
            if attributes.type?.lowercased().contains("ld+json") == true, let text = Self.childText(node) {
                tree.jsonLD.append(text)
            }
            return false
        case .head:
            inHead += 1
        case .title:
            if inHead > 0 || titleBytes == nil {
                if titleBytes == nil, let text = Self.childText(node) { titleBytes = Array(text.utf8) }
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

        var open = Open(tag: tag, element: -1)
        let promote = !hints.isDisjoint(with: [.boilerplate, .caption]) && tag != .a && tag != .time
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
            case "dialog", "alertdialog": hints.insert(.boilerplate)
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

    private mutating func appendText(_ content: UnsafePointer<xmlChar>) {
        if inHead > 0 { return }
        var p = content
        let inLink = linkDepth > 0
        while p.pointee != 0 {
            let byte = p.pointee
            if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C {
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 1
                continue
            }
            if byte == 0xC2 && p[1] == 0xA0 {  // NBSP
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 2
                continue
            }
            if byte == 0xE2 && p[1] == 0x80 && (p[2] == 0x8B || p[2] == 0x8C || p[2] == 0x8D) {  // zero-width
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
            if byte == 0xEF && p[1] == 0xBC && p[2] == 0x8C { bufferCommas += 1 }  // ，
            if byte == 0xE3 && p[1] == 0x80 && p[2] == 0x81 { bufferCommas += 1 }  // 、
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

    /// The text of a node's text children (`<title>`, `<script>`).
    static func childText(_ node: xmlNodePtr) -> String? {
        var text = ""
        var child = node.pointee.children
        while let c = child {
            if let content = c.pointee.content { text += String(cString: content) }
            child = c.pointee.next
        }
        return text.isEmpty ? nil : text
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
    var streamedContent = false

    var imageSource: String? {
        for candidate in [lazySrc, src] {
            if let value = candidate?.trimmingSpaces(), !value.isEmpty, !value.hasPrefix("data:") { return value }
        }
        return nil
    }

    /// The attribute names the walk reads (libxml2's HTML parser reports them in lower case).
    static let wanted: Set<String> = [
        "class", "id", "role", "itemprop", "href", "src", "data-src", "data-original", "data-lazy-src",
        "data-srcset-src", "alt", "datetime", "content", "property", "name", "http-equiv", "rel", "type", "lang",
        "hidden", "style", "aria-hidden",
    ]

    mutating func read(_ node: xmlNodePtr, tag: Tag) {
        var attribute = node.pointee.properties
        while let a = attribute {
            attribute = a.pointee.next
            guard let rawName = a.pointee.name else { continue }
            let name = String(cString: rawName)
            guard Self.wanted.contains(name) else { continue }
            var value = ""
            var child = a.pointee.children
            while let c = child {
                if let content = c.pointee.content { value += String(cString: content) }
                child = c.pointee.next
            }
            switch name {
            case "class":
                if !classAndID.isEmpty { classAndID += " " }
                classAndID += value
            case "role": role = value
            case "itemprop": itemprop = value
            case "href": href = value
            case "src": src = value
            case "data-src", "data-original", "data-lazy-src", "data-srcset-src":
                if lazySrc == nil { lazySrc = value }
            case "alt": alt = value.isEmpty ? nil : value.collapsingWhitespace()
            case "datetime": datetime = value
            case "content": content = value
            case "property": property = value
            case "name": name_(value)
            case "http-equiv": httpEquiv = value
            case "rel": rel = value
            case "type": type = value
            case "lang": lang = value
            case "hidden": hidden = true
            case "id":
                if !classAndID.isEmpty { classAndID += " " }
                classAndID += value
                // React's streamed server rendering parks the page in `<div hidden id="S:0">`.
                if value.hasPrefix("S:") { streamedContent = true }
            case "style":
                let style = value.lowercased().replacingOccurrences(of: " ", with: "")
                // `visibility:hidden` is left alone: pages hide their whole body that way until a script runs.
                if style.contains("display:none") { hidden = true }
            case "aria-hidden":
                if value.lowercased() == "true" && tag.isBlock && tag != .body && tag != .html { hidden = true }
            default: break
            }
        }
    }

    private mutating func name_(_ value: String) { name = value }
}
