import RunnelProtocol

/// What a page's JSON-LD (`<script type="application/ld+json">`) says about its article.
struct JSONLinkedData: Sendable {
    var types: [String] = []
    var headline: String?
    var articleBody: String?
    var datePublished: String?
    var dateModified: String?
    var description: String?
    var authors: [String] = []
    var publisherName: String?
    var url: String?
    var language: String?
    var images: [String] = []
    /// The `description` of the first `Product` object: on a shop's page drawn by a script, often
    /// the only copy of the product's text in the served HTML.
    var productDescription: String?

    /// Whether an object of an article type (`NewsArticle`, `BlogPosting`, `Report`…) was found.
    var isArticle: Bool { types.contains { $0.hasSuffix("Article") || $0.hasSuffix("Posting") || $0 == "Report" } }
    /// Whether the page declares itself a collection (`CollectionPage`, `ItemList`).
    var isCollection: Bool { types.contains { $0 == "CollectionPage" || $0 == "ItemList" || $0 == "SearchResultsPage" } }
    /// Whether it describes the page (`WebPage`, `CollectionPage`…) and no article in it: a
    /// WordPress site's SEO plugin says `og:type` `article` on every page, shop and category pages
    /// included, and writes an `Article` object only for the posts.
    var isPageWithoutArticle: Bool {
        !isArticle && types.contains { $0.hasSuffix("Page") && $0 != "WebPageElement" }
    }

    /// Reads every script, taking the first article object's fields (or, when there is none,
    /// the first WebPage's).
    init(scripts: [String]) {
        var articles: [[String: JSONValue]] = []
        var pages: [[String: JSONValue]] = []
        for script in scripts where script.utf8.count <= 2_000_000 {
            guard let root = Self.value(of: script) else { continue }
            // Breadth-first over objects and arrays, bounded.
            var queue: [JSONValue] = [root]
            var next = 0
            while next < queue.count && next < 5000 {
                let value = queue[next]
                next += 1
                switch value {
                case .array(let items):
                    queue.append(contentsOf: items.prefix(200))
                case .object(let object):
                    let types = Self.strings(object["@type"])
                    types.forEach { if !self.types.contains($0) { self.types.append($0) } }
                    if types.contains("Product"), productDescription == nil {
                        productDescription = Self.string(object["description"])
                    }
                    if types.contains(where: { $0.hasSuffix("Article") || $0.hasSuffix("Posting") || $0 == "Report" }) {
                        articles.append(object)
                    } else if types.contains(where: { $0.hasSuffix("Page") }) {
                        pages.append(object)
                    }
                    for key in ["@graph", "mainEntity", "mainEntityOfPage", "hasPart", "itemListElement"] {
                        switch object[key] {
                        case let child?:
                            if case .array = child { queue.append(child) } else if case .object = child { queue.append(child) }
                        case nil: break
                        }
                    }
                default:
                    break
                }
            }
        }
        guard let object = articles.first ?? pages.first else { return }
        headline = Self.string(object["headline"]) ?? Self.string(object["name"])
        articleBody = Self.string(object["articleBody"]) ?? Self.string(object["text"])
        datePublished = Self.string(object["datePublished"]) ?? Self.string(object["dateCreated"])
        dateModified = Self.string(object["dateModified"])
        description = Self.string(object["description"])
        language = Self.string(object["inLanguage"])
        url = Self.string(object["url"])
        authors = Self.names(object["author"]) + (Self.names(object["creator"]))
        if let publisher = object["publisher"] { publisherName = Self.names(publisher).first }
        images = Self.imageURLs(object["image"])
    }

    /// The script's JSON value: the text without the comment or CDATA marks some sites wrap it
    /// in; nil when it is no JSON.
    private static func value(of script: String) -> JSONValue? {
        var text = script.trimmingSpaces()
        if text.hasPrefix("<!--") { text = String(text.dropFirst(4)) }
        if text.hasSuffix("-->") { text = String(text.dropLast(3)) }
        if text.hasPrefix("//<![CDATA[") { text = String(text.dropFirst(11)) }
        if text.hasSuffix("//]]>") { text = String(text.dropLast(5)) }
        return text.withUTF8 { try? JSONValue(parsing: $0) }
    }

    private static func string(_ value: JSONValue?) -> String? {
        switch value {
        case .string(let text)?:
            let trimmed = text.trimmingSpaces()
            return trimmed.isEmpty ? nil : trimmed
        case .array(let items)?:
            return items.lazy.compactMap { string($0) }.first
        default:
            return nil
        }
    }

    private static func strings(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let text)?: [text]
        case .array(let items)?: items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        default: []
        }
    }

    private static func names(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let text)?:
            let trimmed = text.trimmingSpaces()
            return trimmed.isEmpty || trimmed.hasPrefix("http") ? [] : [trimmed]
        case .object(let object)?: return string(object["name"]).map { [$0] } ?? []
        case .array(let items)?: return items.prefix(10).flatMap { names($0) }
        default: return []
        }
    }

    private static func imageURLs(_ value: JSONValue?) -> [String] {
        switch value {
        case .string(let text)?: [text]
        case .object(let object)?: string(object["url"]).map { [$0] } ?? []
        case .array(let items)?: items.prefix(10).flatMap { imageURLs($0) }
        default: []
        }
    }
}
