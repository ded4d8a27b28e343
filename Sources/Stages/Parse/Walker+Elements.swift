import CLibXML2
import Glibc
import RunnelProtocol

/// Opening and closing elements: their tags, hints, metadata and images, and the tree's elements.
extension Walker {
    mutating func tag(of name: UnsafePointer<xmlChar>) -> Tag {
        // The parsers hand out each element name as one interned string: its address is its key.
        let key = UInt64(UInt(bitPattern: name))
        if let tag = tagCache[key] { return tag }
        let tag = Tag(name: String(cString: name).lowercased())
        tagCache[key] = tag
        return tag
    }

    /// The attributes of a second `<html>` or `<body>` (see ``TreeSink/addAttributes(_:to:)``): a
    /// `lang` counts where the first `<html>` had none; of a body's, nothing does, its hints
    /// having been given at its start, and the extractor stops at the body.
    mutating func addAttributes(_ list: UnsafeMutablePointer<UnsafePointer<xmlChar>?>, to root: ElementKind) {
        guard root == .html, tree.htmlLang == nil else { return }
        var attributes = Attributes()
        attributes.read(list, tag: .html)
        if let lang = attributes.lang, !lang.isEmpty { tree.htmlLang = lang }
    }

    /// Whether an element is hidden only by `aria-hidden` (and perhaps a class) and is the panel
    /// of an accordion header seen before it, or of the collapsed toggle just before it: closed
    /// content, which the reader opens.
    func isClosedPanel(_ attributes: Attributes, followsToggle: Bool) -> Bool {
        guard attributes.ariaHidden && !attributes.hiddenAttribute && !attributes.styleHidden else { return false }
        if followsToggle { return true }
        guard let id = attributes.id else { return false }
        return accordionPanels.contains(id)
    }

    /// Handles an element's start; returns whether to walk into its children.
    mutating func enter(_ name: UnsafePointer<xmlChar>, _ attributeList: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) -> Bool {
        let tag = tag(of: name)
        var attributes = Attributes()
        attributes.read(attributeList, tag: tag)

        if let controls = attributes.ariaControls, openHeadings > 0 {
            for id in controls.split(separator: " ") { accordionPanels.insert(String(id)) }
        }
        let isPanel = isClosedPanel(attributes, followsToggle: toggleJustEnded)
        toggleJustEnded = false
        // A collapsed toggle outside the page's boilerplate (its own hints are read below).
        let isToggle = attributes.collapsedToggle && (current < 0 || tree.elements[Int(current)].boilerplateAncestor < 0)
        if attributes.hidden && !attributes.streamedContent && !isPanel {
            if attributes.styleHidden && tag.isBlock && tag != .body && tag != .html { capture = .hiddenText }
            return false
        }
        switch tag {
        case .script:
            if attributes.type?.lowercased().containsBytes(of: "ld+json") == true { capture = .jsonLD }
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
            if tree.canonicalHref == nil, attributes.relLists("canonical") {
                tree.canonicalHref = attributes.href
            }
            return false
        case .base:
            if let href = attributes.href, let url = resolver.resolve(href) {
                tree.base = URLResolver(base: url)
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
            if tag.isSkipped {
                toggleJustEnded = isToggle  // a `<button>`: its subtree is not walked, so it ends here
                return false
            }
        }
        if inHead > 0 && tag != .head { return false }

        var hints = elementHints(tag: tag, attributes: attributes)
        if let datetime = attributes.datetime ?? (attributes.itemprop?.lowercased().hasPrefix("date") == true ? attributes.content : nil) {
            tree.dates.append(.init(value: datetime, isDatetimeAttribute: true, itemprop: attributes.itemprop))
        }
        if hints.contains(.hidden) {
            // A panel's `hide` class says no more than its `aria-hidden`.
            guard isPanel else { return false }
            hints.remove(.hidden)
        }
        if tag == .a { hints.remove(.caption) }
        if attributes.streamedContent && tag.isBlock { hints.insert(.streamed) }

        var open = Open(tag: tag, element: -1)
        open.isCollapsedToggle = isToggle && !hints.excludesText
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
        let relAuthor = attributes.relIs("author")
        if !hints.isDisjoint(with: [.byline, .date]) || relAuthor {
            var captured = hints.intersection([.byline, .date])
            if relAuthor { captured.insert(.byline) }
            open.captureStart = (tree.blocks.count, buffer.count, captured)
        }
        if tag.isHeading { openHeadings += 1 }
        if tag == .pre { preDepth += 1 }
        stack.append(open)
        return true
    }

    mutating func exit() {
        guard let open = stack.popLast() else { return }
        if open.tag == .head { inHead = max(0, inHead - 1) }
        if open.tag.isHeading { openHeadings -= 1 }
        if open.tag == .pre { preDepth = max(0, preDepth - 1) }
        if open.isCollapsedToggle { toggleJustEnded = true }
        if let start = open.captureStart {
            let text = textSince(blocks: start.blocks, offset: start.offset)
            if !text.isEmpty, text.scalarCount <= 160 {
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

    mutating func newElement(tag: Tag, hints: Hints) -> Int32 {
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
        lastChild.append(-1)
        if parent >= 0 {
            // Link into the parent's child list (the previous sibling is the parent's last child).
            let last = lastChild[Int(parent)]
            if last < 0 {
                tree.elements[Int(parent)].firstChild = index
            } else {
                tree.elements[Int(last)].nextSibling = index
            }
            lastChild[Int(parent)] = index
        }
        current = index
        return index
    }

    mutating func elementHints(tag: Tag, attributes: Attributes) -> Hints {
        var hints: Hints = []
        if let value = attributes.classValue { hints.formUnion(classAndIDHints(value)) }
        if let value = attributes.idValue { hints.formUnion(classAndIDHints(value)) }
        switch tag {
        case .nav, .aside, .footer: hints.insert(.furniture)
        case .article: hints.formUnion([.positive, .layout])
        case .main: hints.formUnion([.positive, .layout, .mainLandmark])
        case .figcaption, .caption: hints.insert(.caption)
        // A table's header cell is the label of its row or column, and a heading is the title of
        // its section: "header" in their class (`tech-specs__header`, rustdoc's `code-header`)
        // names that, not the site's header.
        case .th, .h1, .h2, .h3, .h4, .h5, .h6: hints.remove(.furniture)
        default: break
        }
        if let role = attributes.role?.lowercased() {
            switch role {
            case "navigation", "banner", "contentinfo", "complementary", "menu", "menubar", "search":
                hints.insert(.furniture)
            case "main": hints.formUnion([.positive, .layout, .mainLandmark])
            case "article": hints.formUnion([.positive, .layout])
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

    /// The hints of a class or id value (a NUL-terminated C string).
    private mutating func classAndIDHints(_ value: UnsafePointer<UInt8>) -> Hints {
        let bytes = UnsafeBufferPointer(start: value, count: strlen(UnsafeRawPointer(value).assumingMemoryBound(to: CChar.self)))
        return Vocabulary.hints(forClassAndID: bytes, words: &hintCache)
    }

    mutating func recordMeta(_ attributes: Attributes) {
        guard let content = attributes.content else { return }
        let value = content.trimmingSpaces()
        guard !value.isEmpty else { return }
        for key in [attributes.property, attributes.name, attributes.itemprop, attributes.httpEquiv] {
            guard let key = key?.lowercased(), !key.isEmpty else { continue }
            if tree.meta[key] == nil { tree.meta[key] = value }
        }
    }

    mutating func recordImage(_ attributes: Attributes) {
        guard let src = attributes.imageSource else { return }
        // The picture counts for its element (a product card has one) even where its address
        // gives no web URL: a page read from a `file://` URL has the same cards as on its site.
        if current >= 0 { tree.elements[Int(current)].imageCount += 1 }
        guard let url = resolver.resolve(src) else { return }
        tree.images.append(.init(src: url, alt: attributes.alt, element: current, blockPosition: Int32(tree.blocks.count)))
    }
}
