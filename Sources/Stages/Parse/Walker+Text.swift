import CLibXML2
import Glibc
import RunnelProtocol

/// Text: runs of characters collected into the blocks of the tree, with their links and commas.
extension Walker {
    mutating func appendText(_ content: UnsafePointer<xmlChar>, _ length: Int) {
        if inHead > 0 { return }
        if preDepth > 0 {
            appendPreformatted(content, length)
            return
        }
        var p = content
        let end = content + length
        let inLink = linkDepth > 0
        // Plain words are appended as they stand, so a run of them is appended at once when it
        // ends: `run..<p` is read and not yet in ``buffer``.
        var run = p
        while p < end {
            // Eight bytes at a time where they are all whitespace (a page's indentation) or
            // plain ASCII with single spaces (words); otherwise, those eight byte by byte.
            var stop = end
            if p + 8 <= end {
                let word = UnsafeRawPointer(p).loadUnaligned(as: UInt64.self)
                if Self.isAllWhitespace(word) {
                    if run < p { buffer.append(contentsOf: UnsafeBufferPointer(start: run, count: p - run)) }
                    if !lastWasSpace { buffer.append(0x20) }
                    lastWasSpace = true
                    p += 8
                    run = p
                    continue
                }
                if let plain = Self.plainWords(word, afterSpace: lastWasSpace) {
                    let counted = 8 - plain.trailingSpace + (lastWasSpace && (run < p || !buffer.isEmpty) ? 1 : 0)
                    bufferLength += Int32(counted)
                    if inLink { bufferLinkLength += Int32(counted) }
                    bufferCommas += Int32(plain.commas)
                    lastWasSpace = plain.trailingSpace == 1
                    p += 8
                    continue
                }
                stop = p + 8
            }
            if run < p { buffer.append(contentsOf: UnsafeBufferPointer(start: run, count: p - run)) }
            appendBytes(&p, upTo: stop, end: end, inLink: inLink)
            run = p
        }
        if run < p { buffer.append(contentsOf: UnsafeBufferPointer(start: run, count: p - run)) }
    }

    /// Text inside `<pre>` (code, a poem, a plain-text page): its line breaks and indentation are
    /// kept, a carriage return dropped and a tab kept; words, links and commas are counted as
    /// elsewhere.
    private mutating func appendPreformatted(_ content: UnsafePointer<xmlChar>, _ length: Int) {
        let inLink = linkDepth > 0
        for byte in UnsafeBufferPointer(start: content, count: length) where byte != 0x0D {
            // A block's text begins with its first line that is not empty.
            if buffer.isEmpty && (byte == 0x0A || byte == 0x20 && lastWasSpace) { continue }
            buffer.append(byte)
            lastWasSpace = byte == 0x0A
            if byte & 0xC0 != 0x80 {
                bufferLength += 1
                if inLink { bufferLinkLength += 1 }
            }
            if byte == 0x2C { bufferCommas += 1 }
        }
    }

    /// ``appendText(_:_:)`` byte by byte, from `p` until it reaches `stop` (a character that
    /// starts before `stop` is read whole, up to `end`).
    private mutating func appendBytes(_ p: inout UnsafePointer<xmlChar>, upTo stop: UnsafePointer<xmlChar>, end: UnsafePointer<xmlChar>, inLink: Bool) {
        while p < stop {
            let byte = p.pointee
            if byte == 0x20 || byte == 0x0A || byte == 0x09 || byte == 0x0D || byte == 0x0C {
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 1
                continue
            }
            if byte == 0xC2 && p + 1 < end && p[1] == 0xA0 {  // NBSP
                if !lastWasSpace { buffer.append(0x20) }
                lastWasSpace = true
                p += 2
                continue
            }
            // Invisible characters: a soft hyphen (U+00AD, "Wäh\u{AD}rend", where a line may break),
            // zero-width spaces and joiners, the word joiner, a BOM mid-text. Kept, they split
            // words for a reader's search and for the store's full-text index.
            let invisible = Self.invisibleWidth(p, end)
            if invisible > 0 {
                p += invisible
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
            if byte == 0xEF && p + 2 < end && p[1] == 0xBC && p[2] == 0x8C { bufferCommas += 1 }  // ，
            if byte == 0xE3 && p + 2 < end && p[1] == 0x80 && p[2] == 0x81 { bufferCommas += 1 }  // 、
            p += 1
        }
    }

    /// The byte length of the invisible character at `p` that the text leaves out (U+00AD,
    /// U+200B–U+200D, U+2060, U+FEFF), or 0.
    @inline(__always) static func invisibleWidth(_ p: UnsafePointer<xmlChar>, _ end: UnsafePointer<xmlChar>) -> Int {
        switch p.pointee {
        case 0xC2: return p + 1 < end && p[1] == 0xAD ? 2 : 0
        case 0xE2:
            guard p + 2 < end else { return 0 }
            return p[1] == 0x80 && p[2] >= 0x8B && p[2] <= 0x8D || p[1] == 0x81 && p[2] == 0xA0 ? 3 : 0
        case 0xEF: return p + 2 < end && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0
        default: return 0
        }
    }

    /// Whether all eight bytes are whitespace the walk collapses (space, tab, line feed,
    /// carriage return, form feed).
    @inline(__always) static func isAllWhitespace(_ word: UInt64) -> Bool {
        WordBytes.equal(word, to: 0x20) | WordBytes.equal(word, to: 0x0A) | WordBytes.equal(word, to: 0x09)
            | WordBytes.equal(word, to: 0x0D) | WordBytes.equal(word, to: 0x0C) == WordBytes.highs
    }

    /// For eight bytes of printable ASCII with no two spaces in a row (and no leading space
    /// after a space): how many are commas, and whether the last is a space. Nil for anything
    /// else, which the byte-by-byte path reads.
    @inline(__always) static func plainWords(_ word: UInt64, afterSpace: Bool) -> (commas: Int, trailingSpace: Int)? {
        // No byte above 0x7F and none below 0x20.
        guard word & WordBytes.highs == 0, WordBytes.control(word) == 0 else { return nil }
        let spaces = WordBytes.equal(word, to: 0x20)
        guard spaces & (spaces << 8) == 0, !(afterSpace && spaces & 0x80 != 0) else { return nil }
        let commas = ((WordBytes.equal(word, to: 0x2C) >> 7) &* WordBytes.ones) >> 56  // each byte 0 or 1, summed in the top one
        return (Int(truncatingIfNeeded: commas), Int(truncatingIfNeeded: spaces >> 63))
    }

    /// Ends the current run of text as a block of the current element.
    mutating func flush() {
        while let last = buffer.last, last == 0x20 || last == 0x0A || last == 0x09 { buffer.removeLast() }
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
    func textSince(blocks start: Int, offset: Int) -> String {
        if start == tree.blocks.count {
            guard offset < buffer.count else { return "" }
            return Self.normalized(buffer[offset...])
        }
        var parts = tree.blocks[start...].map(\.text)
        if !buffer.isEmpty { parts.append(Self.normalized(buffer[...])) }
        return parts.joined(separator: " ").trimmingSpaces()
    }

    /// Text from the pending buffer, whose whitespace is already collapsed: trims the ends.
    static func normalized(_ bytes: ArraySlice<UInt8>) -> String {
        var slice = bytes
        while slice.first == 0x20 { slice.removeFirst() }
        while slice.last == 0x20 { slice.removeLast() }
        return String(decoding: slice, as: UTF8.self)
    }
}
