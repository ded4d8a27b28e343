/// The rules of one robots.txt for one user agent, as RFC 9309 reads them: the group naming the
/// agent's token (or `*`), `Allow`/`Disallow` paths with `*` and `$`, the longest match wins and
/// `Allow` wins a tie. A pure value: parsing and matching do no I/O.
///
/// ```swift
/// let rules = RobotsRules(parsing: "User-agent: *\nDisallow: /private/", token: "runnel")
/// rules.allows("/private/a.html")  // false
/// ```
public struct RobotsRules: Sendable, Hashable {
    struct Rule: Sendable, Hashable {
        var allow: Bool
        var pattern: String
    }

    private(set) var rules: [Rule]

    /// Rules that allow everything (no robots.txt, or a 4xx for it).
    public static let allowAll = RobotsRules(rules: [])
    /// Rules that allow nothing.
    public static let disallowAll = RobotsRules(rules: [Rule(allow: false, pattern: "/")])

    init(rules: [Rule]) {
        self.rules = rules
    }

    /// Parses a robots.txt and keeps the group for `token` (lower-case product name), or the
    /// `*` group when no group names it.
    public init(parsing text: String, token: String) {
        var specific: [Rule] = []
        var wildcard: [Rule] = []
        var foundSpecific = false
        var agents: [String] = []
        var inRules = false  // a rule line ends the run of user-agent lines of a group
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            var line = Substring(rawLine)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[..<colon].trimmingSpaces.lowercased()
            let value = String(line[line.index(after: colon)...].trimmingSpaces)
            switch key {
            case "user-agent":
                if inRules {
                    agents = []
                    inRules = false
                }
                agents.append(value.lowercased())
                // A group that names the agent, even without rules, takes precedence over `*`.
                if Self.agent(value, matches: token) { foundSpecific = true }
            case "allow", "disallow":
                inRules = true
                guard !agents.isEmpty else { continue }
                if key == "disallow" && value.isEmpty { continue }  // "Disallow:" allows all
                let rule = Rule(allow: key == "allow", pattern: value)
                if agents.contains(where: { Self.agent($0, matches: token) }) {
                    specific.append(rule)
                } else if agents.contains("*") {
                    wildcard.append(rule)
                }
            default:
                continue  // sitemap, crawl-delay, …
            }
        }
        rules = foundSpecific ? specific : wildcard
    }

    /// Whether a `User-agent` line names this crawler: its product token, case-insensitively,
    /// alone or with a version (`runnel`, `Runnel/0.1`).
    private static func agent(_ name: some StringProtocol, matches token: String) -> Bool {
        let name = name.lowercased()
        return name == token || name.hasPrefix(token + "/")
    }

    /// Whether the path (with its query) may be fetched.
    public func allows(_ path: String) -> Bool {
        let target = path.isEmpty ? "/" : path
        var best: (length: Int, allow: Bool)?
        for rule in rules where Self.matches(rule.pattern, target) {
            let length = rule.pattern.utf8.count
            if best == nil || length > best!.length || (length == best!.length && rule.allow) {
                best = (length, rule.allow)
            }
        }
        return best?.allow ?? true
    }

    /// Matches a robots pattern (`*` any run, `$` at the end anchors) against a path prefix.
    static func matches(_ pattern: String, _ path: String) -> Bool {
        let p = Array(pattern.utf8)
        let s = Array(path.utf8)
        func match(_ i: Int, _ j: Int) -> Bool {
            if i == p.count { return true }  // a pattern is a prefix match
            if p[i] == UInt8(ascii: "$") && i == p.count - 1 { return j == s.count }
            if p[i] == UInt8(ascii: "*") {
                var k = j
                while true {
                    if match(i + 1, k) { return true }
                    if k == s.count { return false }
                    k += 1
                }
            }
            guard j < s.count, p[i] == s[j] else { return false }
            return match(i + 1, j + 1)
        }
        return match(0, 0)
    }
}

extension StringProtocol {
    var trimmingSpaces: Substring {
        var slice = self[...]
        while let first = slice.first, first == " " || first == "\t" { slice = slice.dropFirst() }
        while let last = slice.last, last == " " || last == "\t" { slice = slice.dropLast() }
        return Substring(slice)
    }
}
