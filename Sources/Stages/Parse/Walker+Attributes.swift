import CLibXML2
import Glibc
import RunnelProtocol

/// The attributes of one element that the walk reads.
///
/// Every value is kept as the builder handed it, a NUL-terminated string read in place, valid
/// only while the element's start is handled; a `String` is made only for a value the walk asks
/// for. Most elements' attributes are never asked for, and a struct of pointers costs nothing to
/// drop (fifteen optional `String`s cost ~300 instructions an element to release).
struct Attributes {
    /// The `class` and `id` values, read in place (no `String` for the class words of every
    /// element).
    var classValue: UnsafePointer<UInt8>?
    var idValue: UnsafePointer<UInt8>?
    private var roleValue: UnsafePointer<UInt8>?
    private var itempropValue: UnsafePointer<UInt8>?
    private var hrefValue: UnsafePointer<UInt8>?
    private var srcValue: UnsafePointer<UInt8>?
    private var lazySrcValue: UnsafePointer<UInt8>?
    private var altValue: UnsafePointer<UInt8>?
    private var datetimeValue: UnsafePointer<UInt8>?
    private var contentValue: UnsafePointer<UInt8>?
    private var propertyValue: UnsafePointer<UInt8>?
    private var nameValue: UnsafePointer<UInt8>?
    private var httpEquivValue: UnsafePointer<UInt8>?
    private var relValue: UnsafePointer<UInt8>?
    private var typeValue: UnsafePointer<UInt8>?
    private var langValue: UnsafePointer<UInt8>?
    private var ariaControlsValue: UnsafePointer<UInt8>?

    var role: String? { Self.string(roleValue) }
    var itemprop: String? { Self.string(itempropValue) }
    var href: String? { Self.string(hrefValue) }
    var src: String? { Self.string(srcValue) }
    var lazySrc: String? { Self.string(lazySrcValue) }
    /// The `alt` text with its whitespace collapsed; nil when empty.
    var alt: String? {
        guard let value = Self.string(altValue), !value.isEmpty else { return nil }
        return value.collapsingWhitespace()
    }
    var datetime: String? { Self.string(datetimeValue) }
    var content: String? { Self.string(contentValue) }
    var property: String? { Self.string(propertyValue) }
    var name: String? { Self.string(nameValue) }
    var httpEquiv: String? { Self.string(httpEquivValue) }
    var type: String? { Self.string(typeValue) }
    var lang: String? { Self.string(langValue) }
    /// The element's `id`.
    var id: String? { Self.string(idValue) }
    /// The ids of the elements this one shows and hides (`aria-controls`).
    var ariaControls: String? { Self.string(ariaControlsValue) }
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

    /// Whether `rel`'s space-separated words hold `token` (lower-case ASCII), in any case.
    func relLists(_ token: StaticString) -> Bool {
        guard var p = relValue else { return false }
        let count = token.utf8CodeUnitCount
        while true {
            while p.pointee == 0x20 { p += 1 }
            if p.pointee == 0 { return false }
            var length = 0
            var same = true
            while p[length] != 0 && p[length] != 0x20 {
                if length >= count || MarkupBytes.lower(p[length]) != token.utf8Start[length] { same = false }
                length += 1
            }
            if same && length == count { return true }
            p += length
        }
    }

    /// Whether `rel` is `value` (lower-case ASCII), in any case.
    func relIs(_ value: StaticString) -> Bool {
        guard let rel = relValue else { return false }
        return strcasecmp(UnsafeRawPointer(rel).assumingMemoryBound(to: CChar.self), UnsafeRawPointer(value.utf8Start).assumingMemoryBound(to: CChar.self)) == 0
    }

    private static func string(_ value: UnsafePointer<UInt8>?) -> String? {
        value.map { String(cString: $0) }
    }

    /// What an attribute without a value (`<div hidden>`) reads as (a literal's bytes end in NUL).
    private static let empty: StaticString = ""

    var hidden: Bool { hiddenAttribute || styleHidden || ariaHidden }

    /// The picture's address: a lazy loader's, else `src`; not an empty one or a `data:` URL.
    var imageSource: String? {
        func usable(_ raw: UnsafePointer<UInt8>?) -> String? {
            guard let value = Self.string(raw)?.trimmingSpaces(), !value.isEmpty, !value.hasPrefix("data:") else { return nil }
            return value
        }
        return usable(lazySrcValue) ?? usable(srcValue)
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
            let value = rawValue ?? Self.empty.utf8Start
            switch name {
            case .role: roleValue = value
            case .itemprop: itempropValue = value
            case .href: hrefValue = value
            case .src: srcValue = value
            case .lazySrc:
                if lazySrcValue == nil { lazySrcValue = value }
            case .alt: altValue = value
            case .datetime: datetimeValue = value
            case .content: contentValue = value
            case .property: propertyValue = value
            case .name: nameValue = value
            case .httpEquiv: httpEquivValue = value
            case .rel: relValue = value
            case .type: typeValue = value
            case .lang: langValue = value
            case .class, .id, .hidden, .style: break  // read above
            case .ariaHidden:
                if strcasecmp(UnsafeRawPointer(value).assumingMemoryBound(to: CChar.self), "true") == 0 && tag.isBlock
                    && tag != .body && tag != .html
                {
                    ariaHidden = true
                }
            case .ariaControls: ariaControlsValue = value
            case .ariaExpanded: collapsedToggle = strcasecmp(UnsafeRawPointer(value).assumingMemoryBound(to: CChar.self), "false") == 0
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
}
