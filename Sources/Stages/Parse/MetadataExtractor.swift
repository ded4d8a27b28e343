/// Reads an article's metadata from a ``PageTree``: title, byline, dates, description, canonical
/// URL, site name and declared language, preferring structured sources (JSON-LD, OpenGraph, meta)
/// and falling back to the page's text and URL.
struct MetadataExtractor {
    let tree: PageTree
    let jsonLD: JSONLinkedData
    let pageURL: String

    // MARK: Title

    /// The separators sites put between a headline and their name.
    static let titleSeparators = [" | ", " - ", " – ", " — ", " :: ", " » ", " · ", " || ", " ~ ", " / ", " : "]

    /// `title` without the site's name, when the name (or a short segment at either end) is set
    /// off by a separator: "Nga thông báo… - Báo Thế giới & Việt Nam" → "Nga thông báo…".
    static func strippingSiteName(_ title: String, siteName: String?) -> String {
        splittingSiteName(title, siteName: siteName).title
    }

    /// ``strippingSiteName(_:siteName:)``, with the segment it took for the site's name when no
    /// name was known (`site` is nil when nothing was split off, or the name was given).
    static func splittingSiteName(_ title: String, siteName: String?) -> (title: String, site: String?) {
        let text = title.collapsingWhitespace()
        for separator in titleSeparators where text.containsBytes(of: separator) {
            let parts = text.components(separatedBy: separator)
            guard parts.count >= 2 else { continue }
            if let siteName = siteName?.lowercased().collapsingWhitespace(), !siteName.isEmpty {
                let kept = parts.filter { part in
                    let key = part.lowercased().trimmingSpaces()
                    return !(key == siteName || siteName.contains(key) && key.count >= 3 || key.contains(siteName) && key.count <= siteName.count + 12)
                }
                if !kept.isEmpty && kept.count < parts.count {
                    return (kept.joined(separator: separator).trimmingSpaces(), nil)
                }
            }
            // Without a known name: drop a short last (or first) segment that looks like a name.
            let words = { (s: String) in s.split(separator: " ").count }
            let last = parts[parts.count - 1], first = parts[0]
            let rest = parts.dropLast().joined(separator: separator)
            func nameLike(_ s: String) -> Bool {
                guard let first = s.trimmingSpaces().unicodeScalars.first else { return false }
                return !isLowercase(first)
            }
            if words(last) <= 5 && words(rest) >= words(last) && rest.count > last.count && nameLike(last) {
                return (rest.trimmingSpaces(), last.trimmingSpaces())
            }
            let tail = parts.dropFirst().joined(separator: separator)
            if words(first) <= 3 && tail.count > first.count * 2 && separator != " - " && nameLike(first) {
                return (tail.trimmingSpaces(), first.trimmingSpaces())
            }
        }
        return (text, nil)
    }

    private static func isLowercase(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isLowercase
    }

    /// The name the page declares for its site, else the segment its `<title>` sets off from the
    /// headline ("… - Deccan Herald"), when that segment looks like a name and the headline is
    /// also the page's `og:title` or one of its headings (a "Part 1: …" is not a site).
    func siteName(headings: [String]) -> String? {
        if let declared = declaredSiteName { return declared }
        let documentTitle = tree.titleText?.collapsingWhitespace() ?? ""
        let split = Self.splittingSiteName(documentTitle, siteName: nil)
        guard let site = split.site, site.scalarCount <= 60, !Self.namesAYear(site) else { return nil }
        let headline = split.title.lowercased()
        let ogTitle = firstNonEmpty(tree.meta["og:title"], tree.meta["twitter:title"])?.collapsingWhitespace().lowercased()
        let confirmed = ogTitle.map { $0.contains(headline) || headline.contains($0) } ?? false
            || headings.contains { heading in
                let key = heading.lowercased()
                return key.scalarCount >= 8 && (headline.contains(key) || key.contains(headline))
            }
        return confirmed ? site : nil
    }

    /// Whether `text` holds a year (1900–2099) as a number of its own: "3 stycznia 2012" is the
    /// date a title ends with, not the site's name.
    static func namesAYear(_ text: String) -> Bool {
        text.split(whereSeparator: { !$0.isASCII || !$0.isNumber }).contains { digits in
            digits.count == 4 && (digits.hasPrefix("19") || digits.hasPrefix("20"))
        }
    }

    /// The site's name as the page declares it: OpenGraph, JSON-LD publisher, app names.
    var declaredSiteName: String? {
        firstNonEmpty(tree.meta["og:site_name"], jsonLD.publisherName, tree.meta["application-name"],
            tree.meta["twitter:app:name:iphone"])
    }

    /// The headline: an `h1` that the `<title>` or `og:title` contains, else `og:title`,
    /// JSON-LD `headline` or `<title>` without the site name, else the first heading.
    func title(headings: [String]) -> String {
        let site = declaredSiteName
        let documentTitle = tree.titleText?.collapsingWhitespace() ?? ""
        let ogTitle = firstNonEmpty(tree.meta["og:title"], tree.meta["twitter:title"])?.collapsingWhitespace()
        let references = [documentTitle, ogTitle ?? "", jsonLD.headline ?? ""].map { $0.lowercased() }
        var best: String?
        for heading in headings where heading.scalarCount >= 8 {
            let key = heading.lowercased()
            if references.contains(where: { !$0.isEmpty && $0.containsBytes(of: key) }),
                heading.scalarCount > best?.scalarCount ?? 0,
                heading.lowercased() != site?.lowercased()
            {
                best = heading
            }
        }
        if let best { return best }
        if let ogTitle, !ogTitle.isEmpty { return Self.strippingSiteName(ogTitle, siteName: site) }
        if let headline = jsonLD.headline { return headline.collapsingWhitespace() }
        if !documentTitle.isEmpty { return Self.strippingSiteName(documentTitle, siteName: site) }
        return headings.first ?? ""
    }

    // MARK: Other fields

    var byline: String? {
        let authors = unique(jsonLD.authors.map(Self.cleanByline).filter { !$0.isEmpty })
        if !authors.isEmpty { return authors.joined(separator: ", ") }
        for candidate in [tree.meta["author"], tree.meta["article:author"], tree.meta["dc.creator"],
            tree.meta["sailthru.author"], tree.meta["parsely-author"], tree.meta["byl"]]
        {
            if let value = candidate?.trimmingSpaces(), !value.hasPrefix("http") {
                let cleaned = Self.cleanByline(value)
                if !cleaned.isEmpty { return cleaned }
            }
        }
        for candidate in tree.bylineCandidates {
            let value = Self.cleanByline(candidate)
            if !value.isEmpty && value.scalarCount <= 80 { return value }
        }
        return nil
    }

    /// A byline as a name: without its "By" and the punctuation a template leaves around the
    /// name (`, USA TODAY`, `| Reuters`); empty when nothing of a name is left (a lone "By", a
    /// URL slug such as `jane-doe`, which is an address, not how the page names the author).
    static func cleanByline(_ text: String) -> String {
        let around: Set<Character> = [",", ";", ":", "|", "-", "–", "—", "·", "•", "/", "@"]
        var value = text.collapsingWhitespace()
        var changed = true
        while changed {
            changed = false
            value = String(value.drop { around.contains($0) || $0 == " " }.reversed().drop { around.contains($0) || $0 == " " }.reversed())
            for prefix in ["By ", "by ", "BY ", "Tác giả:", "Tác giả ", "Autor:", "Автор:", "Written by "] where value.hasPrefix(prefix) {
                value = String(value.dropFirst(prefix.count)).trimmingSpaces()
                changed = true
            }
            if ["by", "tác giả", "autor", "автор", "written by"].contains(value.lowercased()) { return "" }
        }
        let isSlug = !value.contains(" ") && value.contains(where: { $0 == "-" || $0 == "_" })
            && value == value.lowercased() && value.allSatisfy { $0.isASCII }
        return isSlug ? "" : value
    }

    /// The zone to assume for times written without one: Vietnam has a single zone, no DST.
    var defaultZone: String? {
        guard let lang = declaredLanguage?.lowercased() else { return nil }
        return lang.hasPrefix("vi") ? "+07:00" : nil
    }

    /// The publication date: JSON-LD, OpenGraph and meta, `<time>`/`itemprop`, date-hinted text
    /// near the top, then the URL.
    func publishedAt(textCandidates: [String]) -> String? {
        let structured = [
            jsonLD.datePublished, tree.meta["article:published_time"], tree.meta["og:published_time"],
            tree.meta["datepublished"], tree.meta["pubdate"], tree.meta["publishdate"], tree.meta["publish-date"],
            tree.meta["publish_date"], tree.meta["dc.date.issued"], tree.meta["dc.date"], tree.meta["date"],
            tree.meta["sailthru.date"], tree.meta["parsely-pub-date"], tree.meta["article.published"],
            tree.meta["pubdate"], tree.meta["dcterms.created"], tree.meta["og:article:published_time"],
        ]
        for value in structured {
            if let value, let date = DateNormalizer.normalize(value) { return date }
        }
        // Read once: the language is looked for in six places, and a page has many candidates.
        let zone = defaultZone
        for mention in tree.dates where mention.isDatetimeAttribute {
            if mention.itemprop?.lowercased() == "datemodified" { continue }
            if let date = DateNormalizer.normalize(mention.value, defaultZone: zone) { return date }
        }
        for text in tree.dates.filter({ !$0.isDatetimeAttribute }).map(\.value) + textCandidates {
            if let date = DateNormalizer.normalize(text, defaultZone: zone) { return date }
        }
        return DateNormalizer.dateInURL(pageURL)
    }

    var updatedAt: String? {
        let values = [
            jsonLD.dateModified, tree.meta["article:modified_time"], tree.meta["og:updated_time"],
            tree.meta["datemodified"], tree.meta["last-modified"], tree.meta["dcterms.modified"],
        ] + tree.dates.filter { $0.itemprop?.lowercased() == "datemodified" }.map(\.value)
        let zone = defaultZone
        for value in values {
            if let value, let date = DateNormalizer.normalize(value, defaultZone: zone) { return date }
        }
        return nil
    }

    var description: String? {
        firstNonEmpty(tree.meta["og:description"], tree.meta["description"], tree.meta["twitter:description"],
            jsonLD.description)?.collapsingWhitespace()
    }

    var canonicalURL: String? {
        for candidate in [tree.canonicalHref, tree.meta["og:url"], jsonLD.url] {
            if let candidate, let url = tree.base.resolve(candidate) { return url }
        }
        return nil
    }

    /// The language the page declares: `<html lang>`, `og:locale` (`vi_VN` → `vi-VN`),
    /// `Content-Language`, JSON-LD `inLanguage`.
    var declaredLanguage: String? {
        let candidates = [tree.htmlLang, tree.meta["og:locale"], tree.meta["content-language"],
            tree.meta["language"], tree.meta["dc.language"], jsonLD.language]
        for candidate in candidates {
            guard var value = candidate?.trimmingSpaces(), !value.isEmpty else { continue }
            value = value.split(separator: ",").first.map(String.init) ?? value
            value = value.replacingOccurrences(of: "_", with: "-").trimmingSpaces()
            guard value.count <= 20, value.unicodeScalars.allSatisfy({ $0.isASCII }) else { continue }
            return value
        }
        return nil
    }

    private func firstNonEmpty(_ values: String?...) -> String? {
        for value in values {
            if let value = value?.trimmingSpaces(), !value.isEmpty { return value }
        }
        return nil
    }

    private func unique(_ values: [String]) -> [String] {
        var seen = Set<String>()
        return values.filter { seen.insert($0).inserted }
    }
}
