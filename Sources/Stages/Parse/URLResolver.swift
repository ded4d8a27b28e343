import Foundation

/// Resolves the links of a page against its URL, keeping only `http` and `https` targets.
struct URLResolver: Sendable {
    let base: String
    private let baseURL: URL?

    init(base: String) {
        self.base = base
        self.baseURL = URL(string: base)
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

    /// The absolute form of `href` without its fragment, or nil for `javascript:`, `mailto:`,
    /// fragment-only and unparseable links.
    func resolve(_ href: String) -> String? {
        var value = href.trimmingSpaces()
        if value.isEmpty || value.hasPrefix("#") { return nil }
        if let hash = value.firstIndex(of: "#") { value = String(value[..<hash]) }
        if Self.hasHTTPScheme(value) {
            return value.contains(" ") ? value.replacingOccurrences(of: " ", with: "%20") : value
        }
        if let colon = value.firstIndex(of: ":"), !value[..<colon].contains("/"), !value[..<colon].contains("?") {
            return nil  // another scheme: javascript:, mailto:, tel:, data:
        }
        guard let baseURL else { return nil }
        let encoded = value.contains(" ") ? value.replacingOccurrences(of: " ", with: "%20") : value
        guard let url = URL(string: encoded, relativeTo: baseURL)?.absoluteURL,
            let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https"
        else { return nil }
        return url.absoluteString
    }
}
