import RunnelProtocol

/// Resolves the links of a page against its URL, keeping only `http` and `https` targets, each
/// in the one spelling ``WebURL`` gives it (so `HTTPS://Site.vn:443/./a#x` and
/// `https://site.vn/a` are one link).
///
/// Most links of a news page are plain ASCII (`https://site.vn/a/b.html`, `/tag/x`, `b.html?p=2`)
/// that WebURL would give back as written, and a page has hundreds of them. Those are resolved
/// on their bytes (``resolvePlain(_:)``) without parsing a WebURL; anything else — upper
/// case in the scheme or host, a port, credentials, dot segments, percent-encoded dots, bytes a
/// part would percent-encode, `xn--` or numeric hosts — goes through WebURL.
struct URLResolver: Sendable {
    let base: String
    private let baseURL: WebURL?
    /// `https:` or `http:` when the base is an http(s) URL the byte path can build on.
    private let baseScheme: [UInt8]?
    /// `https://host[:port]` of the base.
    private let baseOrigin: [UInt8]
    /// The base's path up to and including its last `/`.
    private let baseDirectory: [UInt8]

    init(base: String) {
        self.base = base
        let baseURL = try? WebURL(base)
        self.baseURL = baseURL
        if let baseURL, baseURL.scheme == "http" || baseURL.scheme == "https", !baseURL.hasOpaquePath,
            baseURL.username.isEmpty, baseURL.password.isEmpty, let host = baseURL.host, !host.isEmpty
        {
            baseScheme = Array((baseURL.scheme + ":").utf8)
            var origin = baseURL.scheme + "://" + host
            if let port = baseURL.port { origin += ":" + String(port) }
            baseOrigin = Array(origin.utf8)
            let path = Array(baseURL.path.utf8)
            if let slash = path.lastIndex(of: UInt8(ascii: "/")) {
                baseDirectory = Array(path[...slash])
            } else {
                baseDirectory = [UInt8(ascii: "/")]
            }
        } else {
            baseScheme = nil
            baseOrigin = []
            baseDirectory = []
        }
    }

    /// The absolute form of `href` without its fragment, or nil for `javascript:`, `mailto:`,
    /// fragment-only, empty and unparseable links.
    func resolve(_ href: String) -> String? {
        switch resolvePlain(href) {
        case .resolved(let url): return url
        case .dropped: return nil
        case .unhandled: break
        }
        return resolveWithWebURL(href)
    }

    /// ``resolve(_:)`` without the byte path: what every plain result must equal.
    func resolveWithWebURL(_ href: String) -> String? {
        // An HTML attribute's URL is stripped of ASCII whitespace; WebURL strips the rest.
        guard let first = href.unicodeScalars.first(where: { !$0.properties.isWhitespace }), first != "#",
            let url = try? WebURL(href, base: baseURL), url.scheme == "http" || url.scheme == "https"
        else { return nil }
        return url.removingFragment.href
    }

    /// What the byte path makes of a link.
    enum PlainResult: Equatable {
        /// The link as WebURL would spell it.
        case resolved(String)
        /// Not an http(s) link (`javascript:`, `mailto:`, `#top`).
        case dropped
        /// Not plain: WebURL decides.
        case unhandled
    }

    /// Resolves a plain link on its bytes, giving what ``resolve(_:)``'s WebURL path would, or
    /// `.unhandled` when the link is not plain.
    func resolvePlain(_ href: String) -> PlainResult {
        var text = href
        return text.withUTF8 { bytes -> PlainResult in
            // Everything before the fragment (which is dropped) must be plain bytes.
            var end = 0
            while end < bytes.count && bytes[end] != UInt8(ascii: "#") {
                guard Self.isPlain(bytes[end]) else { return .unhandled }
                end += 1
            }
            if end == 0 { return bytes.isEmpty ? .unhandled : .dropped }  // `#top`
            let input = UnsafeBufferPointer(rebasing: bytes[0..<end])

            // A scheme: `x:` before any `/`, `?`.
            if Self.isAlpha(input[0]) {
                var i = 1
                while i < input.count, Self.isAlpha(input[i]) || Self.isDigit(input[i]) || input[i] == 0x2B
                    || input[i] == 0x2D || input[i] == 0x2E
                {
                    i += 1
                }
                if i < input.count && input[i] == UInt8(ascii: ":") {
                    let scheme = input[0..<i]
                    if scheme.elementsEqual("https".utf8) || scheme.elementsEqual("http".utf8) {
                        guard i + 2 < input.count, input[i + 1] == 0x2F, input[i + 2] == 0x2F else { return .unhandled }
                        return Self.absolute(UnsafeBufferPointer(rebasing: input[...i]), UnsafeBufferPointer(rebasing: input[(i + 1)...]))
                    }
                    // Another scheme, in any case, or `HTTP:`: `javascript:`, `mailto:` are dropped.
                    if scheme.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) { return .unhandled }
                    return .dropped
                }
            }
            guard let baseScheme else { return .unhandled }
            return baseScheme.withUnsafeBufferPointer { baseScheme in
                baseOrigin.withUnsafeBufferPointer { baseOrigin in
                    if input[0] == 0x2F {
                        if input.count >= 2 && input[1] == 0x2F { return Self.absolute(baseScheme, input) }  // `//host/path`
                        return Self.join(baseOrigin, Self.none, Self.none, input)  // `/path`
                    }
                    if input[0] == UInt8(ascii: "?") { return .unhandled }
                    return baseDirectory.withUnsafeBufferPointer { Self.join(baseOrigin, $0, Self.none, input) }  // `a/b.html`
                }
            }
        }
    }

    private static var none: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: nil, count: 0) }

    /// `scheme` (`https:`) and what follows it: `//`, a plain lower-case domain, then a path and
    /// query. The scheme and the `//host` are written as they are: the link's own bytes.
    private static func absolute(_ scheme: UnsafeBufferPointer<UInt8>, _ rest: UnsafeBufferPointer<UInt8>) -> PlainResult {
        var hostEnd = 2
        while hostEnd < rest.count && rest[hostEnd] != 0x2F && rest[hostEnd] != UInt8(ascii: "?") {
            let byte = rest[hostEnd]
            guard (byte >= 0x61 && byte <= 0x7A) || isDigit(byte) || byte == 0x2D || byte == 0x2E else { return .unhandled }
            hostEnd += 1
        }
        guard isPlainDomain(UnsafeBufferPointer(rebasing: rest[2..<hostEnd])) else { return .unhandled }
        let authority = UnsafeBufferPointer(rebasing: rest[..<hostEnd])
        let tail = UnsafeBufferPointer(rebasing: rest[hostEnd...])
        if tail.isEmpty || tail[0] == UInt8(ascii: "?") {  // `https://a.vn` and `https://a.vn?x` get the path `/`
            return slash.withUTF8Buffer { join(scheme, authority, $0, tail) }
        }
        return join(scheme, authority, none, tail)
    }

    private static let slash: StaticString = "/"

    /// `first` + `second` + `third` + `reference` (a path and query), when the path has no dot
    /// segments: the link as one String, written straight into its storage.
    private static func join(
        _ first: UnsafeBufferPointer<UInt8>, _ second: UnsafeBufferPointer<UInt8>, _ third: UnsafeBufferPointer<UInt8>,
        _ reference: UnsafeBufferPointer<UInt8>
    ) -> PlainResult {
        // The path ends at `?`; its segments must not be `.`, `..` or hold `%2e`.
        var segmentStart = 0
        var i = 0
        while i <= reference.count {
            let byte: UInt8 = i < reference.count ? reference[i] : 0x3F
            if byte == 0x2F || byte == 0x3F {
                let length = i - segmentStart
                if length == 1 && reference[segmentStart] == 0x2E { return .unhandled }
                if length == 2 && reference[segmentStart] == 0x2E && reference[segmentStart + 1] == 0x2E { return .unhandled }
                if byte == 0x3F { break }
                segmentStart = i + 1
            } else if byte == 0x25, i + 2 < reference.count, reference[i + 1] == 0x32, reference[i + 2] | 0x20 == 0x65 {
                return .unhandled
            }
            i += 1
        }
        let count = first.count + second.count + third.count + reference.count
        return .resolved(
            String(unsafeUninitializedCapacity: count) { out in
                var written = 0
                func append(_ part: UnsafeBufferPointer<UInt8>) {
                    guard let bytes = part.baseAddress, !part.isEmpty else { return }
                    (out.baseAddress! + written).update(from: bytes, count: part.count)
                    written += part.count
                }
                append(first)
                append(second)
                append(third)
                append(reference)
                return written
            })
    }

    /// A domain WebURL keeps as written: lower-case labels of letters, digits and `-`, none
    /// empty, no `xn--` label, and a last label that does not start with a digit (which could
    /// make the host an IPv4 address).
    private static func isPlainDomain(_ host: UnsafeBufferPointer<UInt8>) -> Bool {
        guard !host.isEmpty, host[0] != 0x2E, host[host.count - 1] != 0x2E else { return false }
        var labelStart = 0
        for i in 0...host.count {
            if i == host.count || host[i] == 0x2E {
                let length = i - labelStart
                if length == 0 { return false }
                if length >= 4, host[labelStart] == 0x78, host[labelStart + 1] == 0x6E, host[labelStart + 2] == 0x2D,
                    host[labelStart + 3] == 0x2D
                {
                    return false
                }
                if i == host.count && isDigit(host[labelStart]) { return false }
                labelStart = i + 1
            }
        }
        return true
    }

    @inline(__always) private static func isAlpha(_ b: UInt8) -> Bool { (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7A }
    @inline(__always) private static func isDigit(_ b: UInt8) -> Bool { b >= 0x30 && b <= 0x39 }

    /// Bytes that neither a path nor a special query percent-encodes, nor WebURL strips or
    /// reads specially: letters, digits and `-._~!$&()*+,;=:@/%?`. One bit per byte below 128, in
    /// two literal words (a table would be a lazy global, checked on every byte);
    /// `URLResolverTests` holds them to the list.
    @inline(__always) static func isPlain(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0xafff_ff72_0000_0000  // 0x00–0x3F: `!$%&()*+,-./`, digits, `:;=?`
        let high: UInt64 = 0x47ff_fffe_87ff_ffff  // 0x40–0x7F: `@`, letters, `_~`
        return byte < 64 ? low >> byte & 1 == 1 : byte < 128 && high >> (byte - 64) & 1 == 1
    }
}
