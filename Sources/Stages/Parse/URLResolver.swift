import RunnelProtocol

/// Resolves the links of a page against its URL, keeping only `http` and `https` targets, each
/// in the one spelling ``WebURL`` gives it (so `HTTPS://Site.vn:443/./a#x` and
/// `https://site.vn/a` are one link).
struct URLResolver: Sendable {
    let base: String
    private let baseURL: WebURL?

    init(base: String) {
        self.base = base
        self.baseURL = try? WebURL(base)
    }

    /// The absolute form of `href` without its fragment, or nil for `javascript:`, `mailto:`,
    /// fragment-only, empty and unparseable links.
    func resolve(_ href: String) -> String? {
        // An HTML attribute's URL is stripped of ASCII whitespace; WebURL strips the rest.
        guard let first = href.unicodeScalars.first(where: { !$0.properties.isWhitespace }), first != "#",
            let url = try? WebURL(href, base: baseURL), url.scheme == "http" || url.scheme == "https"
        else { return nil }
        return url.removingFragment.href
    }
}
