import CLibXML2
import Glibc
import RunnelProtocol

/// Text: runs of characters collected into the blocks of the tree, with their links and commas.
extension Walker {
    mutating func appendText(_ content: UnsafePointer<xmlChar>, _ length: Int) {
        if inHead > 0 { return }
        var p = content
        let end = content + length
        let inLink = linkDepth > 0
        while p < end {
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
            if byte == 0xE2 && p + 2 < end && p[1] == 0x80 && (p[2] == 0x8B || p[2] == 0x8C || p[2] == 0x8D) {  // zero-width
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
            if byte == 0xEF && p + 2 < end && p[1] == 0xBC && p[2] == 0x8C { bufferCommas += 1 }  // ，
            if byte == 0xE3 && p + 2 < end && p[1] == 0x80 && p[2] == 0x81 { bufferCommas += 1 }  // 、
            p += 1
        }
    }

    /// Ends the current run of text as a block of the current element.
    mutating func flush() {
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
