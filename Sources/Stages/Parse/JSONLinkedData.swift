import Foundation

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
        var articles: [[String: Any]] = []
        var pages: [[String: Any]] = []
        for script in scripts where script.utf8.count <= 2_000_000 {
            var text = script.trimmingSpaces()
            if text.hasPrefix("<!--") { text = String(text.dropFirst(4)) }
            if text.hasSuffix("-->") { text = String(text.dropLast(3)) }
            if text.hasPrefix("//<![CDATA[") { text = String(text.dropFirst(11)) }
            if text.hasSuffix("//]]>") { text = String(text.dropLast(5)) }
            guard let data = text.data(using: .utf8),
                let root = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
            else { continue }
            // Breadth-first over objects and arrays, bounded.
            var queue: [Any] = [root]
            var visited = 0
            while !queue.isEmpty && visited < 5000 {
                let value = queue.removeFirst()
                visited += 1
                if let array = value as? [Any] {
                    queue.append(contentsOf: array.prefix(200))
                } else if let object = value as? [String: Any] {
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
                        if let child = object[key], child is [Any] || child is [String: Any] { queue.append(child) }
                    }
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

    private static func string(_ value: Any?) -> String? {
        if let text = value as? String {
            let trimmed = text.trimmingSpaces()
            return trimmed.isEmpty ? nil : trimmed
        }
        if let array = value as? [Any] { return array.lazy.compactMap { string($0) }.first }
        return nil
    }

    private static func strings(_ value: Any?) -> [String] {
        if let text = value as? String { return [text] }
        if let array = value as? [Any] { return array.compactMap { $0 as? String } }
        return []
    }

    private static func names(_ value: Any?) -> [String] {
        if let text = value as? String {
            let trimmed = text.trimmingSpaces()
            return trimmed.isEmpty || trimmed.hasPrefix("http") ? [] : [trimmed]
        }
        if let object = value as? [String: Any] { return string(object["name"]).map { [$0] } ?? [] }
        if let array = value as? [Any] { return array.prefix(10).flatMap { names($0) } }
        return []
    }

    private static func imageURLs(_ value: Any?) -> [String] {
        if let text = value as? String { return [text] }
        if let object = value as? [String: Any] { return string(object["url"]).map { [$0] } ?? [] }
        if let array = value as? [Any] { return array.prefix(10).flatMap { imageURLs($0) } }
        return []
    }
}
