import CLibXML2
import Glibc
import RunnelProtocol

/// The attributes of one element that the walk reads.
struct Attributes {
    /// The `class` and `id` values as the builder handed them, read in place (no `String` for
    /// the class words of every element): valid only while the element's start is handled.
    var classValue: UnsafePointer<UInt8>?
    var idValue: UnsafePointer<UInt8>?
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
    /// The element's `id`.
    var id: String? { idValue.map { String(cString: $0) } }
    /// The ids of the elements this one shows and hides (`aria-controls`).
    var ariaControls: String?
    /// A control that shows something now collapsed (`aria-expanded=false`).
    var collapsedToggle = false
    /// Hidden by the `hidden` attribute (not `hidden=until-found`, which the browser's find
    /// reveals: collapsed content).
    var hiddenAttribute = false
    /// Hidden by `style` (`display:none`), which a script may lift.
    var styleHidden = false
    /// A block with `aria-hidden=true`.
    var ariaHidden = false
    var streamedContent = false

    var hidden: Bool { hiddenAttribute || styleHidden || ariaHidden }

    var imageSource: String? {
        for candidate in [lazySrc, src] {
            if let value = candidate?.trimmingSpaces(), !value.isEmpty, !value.hasPrefix("data:") { return value }
        }
        return nil
    }

    /// The names of the attributes the walk reads (the only ones ``HTMLTokenizer`` copies out;
    /// ``MarkupScan`` leaves every other one out of what libxml2 is given).
    static var readNames: [String] { Name.byName.keys.map { String(decoding: $0, as: UTF8.self) } }

    /// The attributes the walk reads, by name (every builder reports names in lower case).
    private enum Name {
        case `class`, id, role, itemprop, href, src, lazySrc, alt, datetime, content, property, name, httpEquiv
        case rel, type, lang, hidden, style, ariaHidden, ariaControls, ariaExpanded

        static let byName: [[UInt8]: Name] = [
            Array("class".utf8): .class, Array("id".utf8): .id, Array("role".utf8): .role,
            Array("itemprop".utf8): .itemprop, Array("href".utf8): .href, Array("src".utf8): .src,
            Array("data-src".utf8): .lazySrc, Array("data-original".utf8): .lazySrc,
            Array("data-lazy-src".utf8): .lazySrc, Array("data-srcset-src".utf8): .lazySrc,
            Array("alt".utf8): .alt, Array("datetime".utf8): .datetime, Array("content".utf8): .content,
            Array("property".utf8): .property, Array("name".utf8): .name, Array("http-equiv".utf8): .httpEquiv,
            Array("rel".utf8): .rel, Array("type".utf8): .type, Array("lang".utf8): .lang,
            Array("hidden".utf8): .hidden, Array("style".utf8): .style, Array("aria-hidden".utf8): .ariaHidden,
            Array("aria-controls".utf8): .ariaControls, Array("aria-expanded".utf8): .ariaExpanded,
        ]
        /// The names above by length, and which bytes start one: most attributes (`width`,
        /// `aria-label`, most `data-*`) are passed over on their first byte or length, the rest
        /// compared with the few names of their length, without hashing or allocating.
        static let byLength: [[([UInt8], Name)]] = {
            var table = [[([UInt8], Name)]](repeating: [], count: 17)
            for (bytes, name) in byName where bytes.count <= 16 { table[bytes.count].append((bytes, name)) }
            return table
        }()
        static let firstBytes: [Bool] = {
            var table = [Bool](repeating: false, count: 256)
            for bytes in byName.keys { table[Int(bytes[0])] = true }
            return table
        }()

        static func of(_ name: UnsafePointer<xmlChar>) -> Name? {
            guard firstBytes[Int(name.pointee)] else { return nil }
            var length = 0
            while name[length] != 0 && length <= 16 { length += 1 }
            guard length <= 16 else { return nil }
            for (bytes, value) in byLength[length] where bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, name, length) == 0 }) {
                return value
            }
            return nil
        }
    }

    /// Reads the `name, value, name, value, …, NULL` list of a SAX start-element event.
    mutating func read(_ list: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?, tag: Tag) {
        guard let list else { return }
        var index = 0
        while let rawName = list[index] {
            let rawValue = list[index + 1]
            index += 2
            guard let name = Name.of(rawName) else { continue }
            switch name {
            case .class:
                if classValue == nil { classValue = rawValue }
                continue
            case .id:
                guard idValue == nil, let rawValue else { continue }
                idValue = rawValue
                // React's streamed server rendering parks the page in `<div hidden id="S:0">`.
                if rawValue[0] == UInt8(ascii: "S") && rawValue[1] == UInt8(ascii: ":") { streamedContent = true }
                continue
            case .hidden:
                hiddenAttribute = rawValue.map { strcasecmp(UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self), "until-found") != 0 } ?? true
                continue
            case .style:
                // `visibility:hidden` is left alone: pages hide their whole body that way until a script runs.
                if let rawValue, Self.styleHidesElement(rawValue) { styleHidden = true }
                continue
            default: break
            }
            // An attribute without a value (`<div hidden>`) reads as empty.
            let value = rawValue.map { String(cString: $0) } ?? ""
            switch name {
            case .role: role = value
            case .itemprop: itemprop = value
            case .href: href = value
            case .src: src = value
            case .lazySrc:
                if lazySrc == nil { lazySrc = value }
            case .alt: alt = value.isEmpty ? nil : value.collapsingWhitespace()
            case .datetime: datetime = value
            case .content: content = value
            case .property: property = value
            case .name: name_(value)
            case .httpEquiv: httpEquiv = value
            case .rel: rel = value
            case .type: type = value
            case .lang: lang = value
            case .class, .id, .hidden, .style: break  // read above, without making a string
            case .ariaHidden:
                if value.lowercased() == "true" && tag.isBlock && tag != .body && tag != .html { ariaHidden = true }
            case .ariaControls: ariaControls = value
            case .ariaExpanded: collapsedToggle = value.lowercased() == "false"
            }
        }
    }

    /// Whether a `style` value holds `display:none` (any case, spaces anywhere).
    static func styleHidesElement(_ style: UnsafePointer<xmlChar>) -> Bool {
        let text: StaticString = "display:none"  // no array allocated per element with a style
        let pattern = UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount)
        var p = style
        var matched = 0
        while p.pointee != 0 {
            var byte = p.pointee
            p += 1
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { continue }
            if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
            if byte == pattern[matched] {
                matched += 1
                if matched == pattern.count { return true }
            } else {
                // The pattern's first byte does not recur in it, so a mismatch restarts at this byte.
                matched = byte == pattern[0] ? 1 : 0
            }
        }
        return false
    }

    private mutating func name_(_ value: String) { name = value }
}
