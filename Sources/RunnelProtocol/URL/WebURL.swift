/// A URL parsed and serialised as the WHATWG URL Standard says, so one page has one spelling.
///
/// Parsing follows the standard's basic URL parser (https://url.spec.whatwg.org/#concept-basic-url-parser):
/// leading and trailing C0 controls and spaces are stripped and tabs and newlines removed; the
/// scheme and a special scheme's host are lower-cased; `\` counts as `/` in special schemes
/// (`http`, `https`, `ws`, `wss`, `ftp`, `file`); a default port (`:443` for `https`) is dropped;
/// `.`, `..`, `%2e` and `%2e%2e` path segments are resolved; IPv4 hosts in any form the standard
/// accepts (`0x7f.1`, `017700000001`) become dotted decimal and IPv6 hosts are compressed; each
/// part is percent-encoded with its own encode set; a non-ASCII host becomes punycode (see
/// ``WebURL/domainToASCII(_:)`` for how far that follows UTS 46). Relative references resolve
/// against a base. The serialisation, ``href``, is the standard's URL serializer.
///
/// Equal spellings of one URL give equal ``href``s, which is what makes it a key:
///
/// ```swift
/// let url = try WebURL("HTTPS://Example.com:443/news/./a/../b.html")
/// url.href                                   // "https://example.com/news/b.html"
/// try WebURL("../c?x#top", base: url).href   // "https://example.com/c?x#top"
/// try WebURL("http://bücher.de/").host       // "xn--bcher-kva.de"
/// ```
///
/// A string that is not a URL (no scheme and no base, a bad host, a port over 65535) throws
/// ``RunnelError`` with `.invalidArgument` and a message naming the input and what is wrong.
public struct WebURL: Sendable, Hashable, CustomStringConvertible {
    /// The scheme, lower case, without `:` (`https`).
    public internal(set) var scheme: String
    /// The user name, percent-encoded; empty when there is none.
    public internal(set) var username: String = ""
    /// The password, percent-encoded; empty when there is none.
    public internal(set) var password: String = ""
    /// The host, when the URL has one.
    var hostValue: Host?
    /// The port, or nil when it is absent or the scheme's default (`https://a:443/` has none).
    public internal(set) var port: Int?
    /// The path segments; for a URL with an opaque path (`mailto:a@b`), the one opaque path.
    var pathSegments: [String] = []
    /// Whether the path is opaque (`mailto:a@b`, `javascript:x`) rather than a list of segments.
    public internal(set) var hasOpaquePath = false
    /// The query, percent-encoded, without `?`; nil when absent, empty for a bare `?`.
    public internal(set) var query: String?
    /// The fragment, percent-encoded, without `#`; nil when absent, empty for a bare `#`.
    public internal(set) var fragment: String?

    /// Parses `string`, resolved against `base` when it is relative.
    ///
    /// - Parameters:
    ///   - string: an absolute URL, or a reference relative to `base` (`../a.html`, `//host/x`, `?q`).
    ///   - base: the URL relative references resolve against; nil accepts absolute URLs only.
    /// - Throws: ``RunnelError`` `.invalidArgument` when `string` is not a URL (relative
    ///   without a base, an invalid host or IP address, a port over 65535, a special URL without
    ///   a host).
    ///
    /// ```swift
    /// try WebURL("./b?x", base: WebURL("http://example.com/a/")).href  // "http://example.com/a/b?x"
    /// ```
    public init(_ string: String, base: WebURL? = nil) throws(RunnelError) {
        do {
            var parser = Parser(input: string, base: base)
            self = try parser.parse()
        } catch {
            let shown = string.count > 200 ? String(string.prefix(200)) + "…" : string
            throw RunnelError(.invalidArgument, "\"\(shown)\" is not a valid URL: \(error.reason)")
        }
    }

    init(scheme: String) {
        self.scheme = scheme
    }

    /// The whole URL as the standard serialises it: `https://user@example.com:8443/a/b?q#f`.
    public var href: String {
        var output = scheme + ":"
        if let hostValue {
            output += "//"
            if !username.isEmpty || !password.isEmpty {
                output += username
                if !password.isEmpty { output += ":" + password }
                output += "@"
            }
            output += hostValue.serialized
            if let port { output += ":" + String(port) }
        } else if !hasOpaquePath, pathSegments.count > 1, pathSegments[0].isEmpty {
            output += "/."  // keeps `web+demo:/.//not-a-host` from reading back as a host
        }
        output += path
        if let query { output += "?" + query }
        if let fragment { output += "#" + fragment }
        return output
    }

    public var description: String { href }

    /// The serialised host (`example.com`, `xn--bcher-kva.de`, `127.0.0.1`, `[::1]`), empty for
    /// `file:///x`, nil when the URL has no host (`mailto:a@b`).
    public var host: String? { hostValue?.serialized }

    /// The serialised path: `/a/b.html`, `/` for `https://example.com`, or the opaque path.
    public var path: String {
        hasOpaquePath ? (pathSegments.first ?? "") : pathSegments.map { "/" + $0 }.joined()
    }

    /// The port to connect to: the explicit one, else the scheme's default, else nil.
    public var portOrDefault: Int? { port ?? Self.defaultPort(of: scheme) }

    /// Whether the scheme is one of the standard's special schemes (`http`, `https`, `ws`,
    /// `wss`, `ftp`, `file`), whose URLs always have a host and a hierarchical path.
    public var isSpecial: Bool { Self.isSpecial(scheme) }

    /// The same URL without its fragment: the document a server is asked for.
    public var removingFragment: WebURL {
        var copy = self
        copy.fragment = nil
        return copy
    }

    /// The same URL without its user part (`https://user:secret@host/` → `https://host/`).
    public var removingCredentials: WebURL {
        var copy = self
        copy.username = ""
        copy.password = ""
        return copy
    }

    /// A URL as typed, its user part cut out (`https://user:secret@host/a` → `https://host/a`),
    /// for what is written about it (messages, logs, errors); the rest as typed.
    public static func removingCredentials(from text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "@")), let scheme = text.range(of: ":") else { return text }
        var start = scheme.upperBound
        while start < text.endIndex, text[start] == "/" || text[start] == "\\" { start = text.index(after: start) }
        let authority = text[start...].prefix { $0 != "/" && $0 != "?" && $0 != "#" && $0 != "\\" }
        guard let at = authority.lastIndex(of: "@") else { return text }
        return String(text[..<start] + text[text.index(after: at)...])
    }

    /// The path and query as an HTTP request line carries them: `/a/b.html?x=1`.
    public var pathAndQuery: String {
        let path = path.isEmpty ? "/" : path
        return query.map { path + "?" + $0 } ?? path
    }

    static func isSpecial(_ scheme: String) -> Bool {
        switch scheme {
        case "http", "https", "ws", "wss", "ftp", "file": true
        default: false
        }
    }

    static func defaultPort(of scheme: String) -> Int? {
        switch scheme {
        case "http", "ws": 80
        case "https", "wss": 443
        case "ftp": 21
        default: nil
        }
    }
}
