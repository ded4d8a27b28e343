import Foundation

/// Resolves the links of a page against its URL, keeping only `http` and `https` targets.
///
/// Absolute, scheme-relative (`//host/x`) and root-relative (`/x`) links — nearly all of a
/// page's links — are resolved by string work; other relative forms go through Foundation's `URL`.
struct URLResolver: Sendable {
    let base: String
    private let baseURL: URL?
    /// `https:` of the base.
    private let scheme: Substring
    /// `https://host:port` of the base.
    private let origin: Substring

    init(base: String) {
        self.base = base
        self.baseURL = URL(string: base)
        if let schemeEnd = base.range(of: "://") {
            scheme = base[..<base.index(after: schemeEnd.lowerBound)]
            let rest = base[schemeEnd.upperBound...]
            let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex
            origin = base[..<hostEnd]
        } else {
            scheme = ""
            origin = ""
        }
    }

    /// The absolute form of `href` without its fragment, or nil for `javascript:`, `mailto:`,
    /// fragment-only and unparseable links.
    func resolve(_ href: String) -> String? {
        var value = href.trimmingSpaces()
        guard let first = value.utf8.first, first != UInt8(ascii: "#") else { return nil }
        if let hash = value.utf8.firstIndex(of: UInt8(ascii: "#")) { value = String(value[..<hash]) }
        if value.utf8.contains(UInt8(ascii: " ")) { value = value.replacingOccurrences(of: " ", with: "%20") }
        if Self.hasHTTPScheme(value) { return value }
        if first == UInt8(ascii: "/") {
            guard !origin.isEmpty else { return nil }
            let second = value.utf8.dropFirst().first
            if second == UInt8(ascii: "/") { return scheme.isEmpty ? nil : scheme + value }
            if second != UInt8(ascii: ".") && !value.contains("/.") { return origin + value }
        }
        if let colon = value.utf8.firstIndex(of: UInt8(ascii: ":")) {
            let head = value.utf8[..<colon]
            if !head.contains(UInt8(ascii: "/")) && !head.contains(UInt8(ascii: "?")) {
                return nil  // another scheme: javascript:, mailto:, tel:, data:
            }
        }
        guard let baseURL, let url = URL(string: value, relativeTo: baseURL)?.absoluteURL,
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { return nil }
        return url.absoluteString
    }

    private static func hasHTTPScheme(_ value: String) -> Bool {
        var iterator = value.utf8.makeIterator()
        for expected in "http".utf8 {
            guard let byte = iterator.next(), byte | 0x20 == expected else { return false }
        }
        var byte = iterator.next()
        if byte.map({ $0 | 0x20 }) == UInt8(ascii: "s") { byte = iterator.next() }
        return byte == UInt8(ascii: ":") && iterator.next() == UInt8(ascii: "/") && iterator.next() == UInt8(ascii: "/")
    }
}
