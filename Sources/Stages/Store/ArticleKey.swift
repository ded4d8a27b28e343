import RunnelProtocol

/// The key an article is stored under: its canonical URL, or the fetched URL without one,
/// normalised by ``WebURL`` without its fragment, so `HTTPS://Site.vn:443/./a#top` and
/// `https://site.vn/a` are one article. A string WebURL cannot parse is kept as written.
///
/// Nearly every URL a parser hands on is already in that form, so one scan checks for it first
/// and only the others are parsed (parsing was 5% of the store's CPU: issue 14).
/// ``isNormal(_:)`` accepts a string only when WebURL would give it back unchanged;
/// `ArticleKeyTests` holds the two to the same answers.
enum ArticleKey {
    static func of(_ article: ArticleParsed) -> String {
        var key = article.url
        if let canonical = article.canonicalURL {
            let trimmed = isTrimmed(canonical) ? canonical : canonical.trimmingCharacters(in: .whitespacesAndNewlines)
            if !trimmed.isEmpty { key = trimmed }
        }
        return normalized(key)
    }

    static func normalized(_ url: String) -> String {
        if isNormal(url) { return url }
        return (try? WebURL(url).removingFragment.href) ?? url
    }

    /// Whether WebURL's `href` of `url` (without a fragment) is `url` itself: `http://` or
    /// `https://`, a lower-case ASCII host name that is no IPv4 address and has no punycode
    /// label, no port, and a path and query of characters the parser keeps as they are (no dot
    /// segment, no fragment, `%` only before two hex digits).
    static func isNormal(_ url: String) -> Bool {
        var url = url
        return url.withUTF8(isNormal)
    }

    private static func isNormal(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let https = Array("https://".utf8)
        let http = Array("http://".utf8)
        var i: Int
        if bytes.starts(with: https) {
            i = https.count
        } else if bytes.starts(with: http) {
            i = http.count
        } else {
            return false
        }

        // The host: labels of [a-z0-9-], none empty, none `xn--`, the last starting with a letter.
        let hostStart = i
        var labelStart = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "/") {
            let byte = bytes[i]
            if byte == UInt8(ascii: ".") {
                guard i > labelStart, !isPunycode(bytes, labelStart) else { return false }
                labelStart = i + 1
            } else if !(isLowerLetter(byte) || isDigit(byte) || byte == UInt8(ascii: "-")) {
                return false  // a port, user info, upper case, non-ASCII, a backslash…
            }
            i += 1
        }
        guard i < bytes.count, i > hostStart, i > labelStart, !isPunycode(bytes, labelStart), isLowerLetter(bytes[labelStart])
        else { return false }

        // The path, then the query.
        var inQuery = false
        var segmentStart = i + 1
        func isDotSegment(_ end: Int) -> Bool {
            let length = end - segmentStart
            return (length == 1 && bytes[segmentStart] == UInt8(ascii: "."))
                || (length == 2 && bytes[segmentStart] == UInt8(ascii: ".") && bytes[segmentStart + 1] == UInt8(ascii: "."))
        }
        while i < bytes.count {
            let byte = bytes[i]
            switch byte {
            case UInt8(ascii: "/") where !inQuery:
                if i > segmentStart && isDotSegment(i) { return false }
                segmentStart = i + 1
            case UInt8(ascii: "?") where !inQuery:
                if isDotSegment(i) { return false }
                inQuery = true
            case UInt8(ascii: "%"):
                guard i + 2 < bytes.count, isHex(bytes[i + 1]), isHex(bytes[i + 2]) else { return false }
                // An escaped dot (`%2e`) may make a dot segment: left to the parser.
                if !inQuery && bytes[i + 1] == UInt8(ascii: "2") && (bytes[i + 2] | 0x20) == UInt8(ascii: "e") { return false }
            default:
                guard isKept(byte) else { return false }
            }
            i += 1
        }
        return inQuery || !isDotSegment(bytes.count)
    }

    /// Path and query bytes the parser copies as they are in a special URL (not `'`: the query
    /// of a special URL escapes it).
    private static func isKept(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "!"), UInt8(ascii: "$"),
            UInt8(ascii: "&"), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","),
            UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"), UInt8(ascii: "/"), UInt8(ascii: "?"):
            return true
        default:
            return false
        }
    }

    private static func isPunycode(_ bytes: UnsafeBufferPointer<UInt8>, _ start: Int) -> Bool {
        start + 4 <= bytes.count && bytes[start] == UInt8(ascii: "x") && bytes[start + 1] == UInt8(ascii: "n")
            && bytes[start + 2] == UInt8(ascii: "-") && bytes[start + 3] == UInt8(ascii: "-")
    }

    private static func isLowerLetter(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
    private static func isHex(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte | 0x20 >= UInt8(ascii: "a") && byte | 0x20 <= UInt8(ascii: "f"))
    }

    /// Whether `string` has no whitespace at either end (the common case: no trimming needed).
    private static func isTrimmed(_ string: String) -> Bool {
        guard let first = string.utf8.first, let last = string.utf8.last else { return true }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) || byte >= 0x80 }
        return !isSpace(first) && !isSpace(last)
    }
}
