import Glibc

/// The stack of open elements and what goes to the sink as it changes: pushing, popping,
/// implied end tags and "has an element in scope" (WHATWG HTML 13.2.4.2).
extension TreeBuilder {
    // MARK: The sink

    mutating func handOnStart(_ name: UnsafePointer<UInt8>, _ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>?, _ namespace: Namespace) {
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

    mutating func handOnEnd() {
        if isMuted { return }
        if held != nil { held!.end() } else { sink.end() }
    }

    mutating func handOnCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        if isMuted { return }
        if held != nil { held!.characters(text, length) } else { sink.characters(text, length) }
    }

    mutating func handOnRawCharacters(_ text: UnsafePointer<UInt8>, _ length: Int) {
        if isMuted { return }
        if held != nil { held!.rawCharacters(text, length) } else { sink.rawCharacters(text, length) }
    }

    mutating func handOnAttributes(_ attributes: UnsafeMutablePointer<UnsafePointer<UInt8>?>, to root: ElementKind) {
        if isMuted { return }
        if held != nil { held!.addAttributes(attributes, to: root) } else { sink.addAttributes(attributes, to: root) }
    }

    /// The held block has ended (or the document has): its events, moved where the adoption
    /// agency put them, go on to the sink.
    mutating func handOnHeld() {
        guard let events = held else { return }
        held = nil
        heldRoot = -1
        if !isMuted { events.handOn(to: &sink) }
    }

    // MARK: The stack

    mutating func push(_ tag: StartTag, namespace: Namespace = .html) {
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

    mutating func push(implied kind: ElementKind) {
        push(StartTag(name: kind.cName, kind: kind))
    }

    mutating func pop() {
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
    mutating func insert(_ tag: StartTag) -> ElementKind.Content {
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

    mutating func insertVoid(_ tag: StartTag) {
        handOnStart(tag.name, tag.attributes, .html)
        handOnEnd()
    }

    mutating func insertForeign(_ tag: StartTag, in namespace: Namespace) {
        if tag.kind == .annotationXML { depart(.annotationXML) }
        push(tag, namespace: namespace)
        if tag.selfClosing { pop() }
    }

    /// Ends whatever the markup left open inside the head, and takes the head off the stack; the
    /// sink sees it end at ``endHead()``.
    mutating func popHead() {
        guard stack.contains(where: { $0.is(.head) }) else { return }
        while let top = stack.last, !top.is(.head) { pop() }
        isOpen[stack.removeLast().id] = false
        headEndPending = true
    }

    /// Ends the head for the sink, once nothing more can go into it, and hands on the whitespace
    /// that followed it. A head-content element the document's end left open ends first.
    mutating func endHead() {
        guard headEndPending else { return }
        headEndPending = false
        while stack.count > 1 { pop() }
        handOnEnd()
        guard !afterHeadWhitespace.isEmpty else { return }
        afterHeadWhitespace.withUnsafeBufferPointer { handOnCharacters($0.baseAddress!, $0.count) }
        afterHeadWhitespace.removeAll()
    }

    mutating func popUntil(_ kind: ElementKind) {
        popUntil { $0.is(kind) }
    }

    /// Pops elements up to and including the nearest that `matches`.
    mutating func popUntil(_ matches: (Node) -> Bool) {
        while let top = stack.last {
            pop()
            if matches(top) { return }
        }
    }

    /// Pops elements until the one on top `matches` (or is `<html>` or `<template>`).
    mutating func popUntilTop(_ matches: (Node) -> Bool) {
        while let top = stack.last, !matches(top), !top.is(.html), !top.is(.template) { pop() }
    }

    mutating func closeParagraph() {
        guard inScope(.p, .button) else { return }
        generateImpliedEndTags(except: .p)
        popUntil(.p)
    }

    mutating func generateImpliedEndTags(except kind: ElementKind? = nil) {
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
