import Glibc

/// Formatting elements (`<b>`, `<a>`, `<font>`…): the adoption agency that closes them, and
/// their reconstruction where content comes after a block closed them (WHATWG HTML 13.2.4.3, 13.2.6.4.7).
extension TreeBuilder {
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
    mutating func adoptionAgency(_ kind: ElementKind, name: UnsafePointer<UInt8>) {
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
    mutating func moveOut(_ entry: ActiveFormattingElements.Entry, at index: Int) -> Bool {
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
    mutating func closeFormatting(_ entry: ActiveFormattingElements.Entry) -> Bool {
        guard isOpen[entry.id], let index = stack.lastIndex(where: { $0.id == entry.id }) else { return false }
        let moves = stack[(index + 1)...].contains(where: \.isSpecial)
        while stack.count > index { pop() }
        return moves
    }

    mutating func pushFormatting(_ tag: StartTag) {
        push(tag)
        formatting.append(id: stack[stack.count - 1].id, name: tag.name, kind: tag.kind, attributes: tag.attributes)
    }

    /// Reopens the formatting elements that markup closed while they were active (`<p><a
    /// href=…>link</p>more`: "more" is in a new `<a>` with the same attributes).
    mutating func reconstructFormatting() {
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
