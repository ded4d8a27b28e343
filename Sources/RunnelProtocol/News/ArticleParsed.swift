import Foundation

/// `article.parsed`: the article found in a page.
///
/// `url` (the fetched URL, unchanged), `title` and `text` (paragraphs separated by a blank line)
/// are fixed names: tools outside the project read them.
public struct ArticleParsed: Sendable, Hashable, Codable {
    public struct Image: Sendable, Hashable, Codable {
        public var src: String
        public var caption: String?
        public init(src: String, caption: String? = nil) {
            self.src = src
            self.caption = caption
        }
    }

    public struct Link: Sendable, Hashable, Codable {
        public var title: String
        public var url: String
        public init(title: String, url: String) {
            self.title = title
            self.url = url
        }
    }

    /// What the page is.
    public enum Kind: String, Sendable, Hashable, Codable {
        case article, listing, other
    }

    public var url: String
    public var canonicalURL: String?
    public var title: String
    public var byline: String?
    /// ISO 8601, with the zone when known.
    public var publishedAt: String?
    public var updatedAt: String?
    public var description: String?
    public var siteName: String?
    /// The language the page declares (`lang`, `og:locale`, meta).
    public var lang: String?
    /// The main text: paragraphs separated by a blank line.
    public var text: String
    public var paragraphs: [String]
    public var images: [Image]
    /// The picture the page declares for itself (`og:image`, `twitter:image`, JSON-LD `image`),
    /// absolute; else the article's first image. What a feed or a card shows beside the title.
    public var leadImage: String?
    public var outlinks: [String]
    /// The page's own "related articles" list.
    public var related: [Link]
    public var kind: Kind

    enum CodingKeys: String, CodingKey {
        case url, title, byline, description, lang, text, paragraphs, images, outlinks, related, kind
        case canonicalURL = "canonical_url"
        case publishedAt = "published_at"
        case updatedAt = "updated_at"
        case siteName = "site_name"
        case leadImage = "lead_image"
    }

    public init(
        url: String, canonicalURL: String? = nil, title: String = "", byline: String? = nil,
        publishedAt: String? = nil, updatedAt: String? = nil, description: String? = nil, siteName: String? = nil,
        lang: String? = nil, paragraphs: [String] = [], images: [Image] = [], outlinks: [String] = [],
        related: [Link] = [], kind: Kind = .article, leadImage: String? = nil
    ) {
        self.url = url
        self.canonicalURL = canonicalURL
        self.title = title
        self.byline = byline
        self.publishedAt = publishedAt
        self.updatedAt = updatedAt
        self.description = description
        self.siteName = siteName
        self.lang = lang
        self.text = paragraphs.joined(separator: "\n\n")
        self.paragraphs = paragraphs
        self.images = images
        self.leadImage = leadImage
        self.outlinks = outlinks
        self.related = related
        self.kind = kind
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        url = try c.decode(String.self, forKey: .url)
        canonicalURL = try c.decodeIfPresent(String.self, forKey: .canonicalURL)
        title = try c.decode(String.self, forKey: .title)
        byline = try c.decodeIfPresent(String.self, forKey: .byline)
        publishedAt = try c.decodeIfPresent(String.self, forKey: .publishedAt)
        updatedAt = try c.decodeIfPresent(String.self, forKey: .updatedAt)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        siteName = try c.decodeIfPresent(String.self, forKey: .siteName)
        lang = try c.decodeIfPresent(String.self, forKey: .lang)
        text = try c.decode(String.self, forKey: .text)
        paragraphs = try c.decodeIfPresent([String].self, forKey: .paragraphs) ?? Self.split(text)
        images = try c.decodeIfPresent([Image].self, forKey: .images) ?? []
        leadImage = try c.decodeIfPresent(String.self, forKey: .leadImage)
        outlinks = try c.decodeIfPresent([String].self, forKey: .outlinks) ?? []
        related = try c.decodeIfPresent([Link].self, forKey: .related) ?? []
        kind = try c.decodeIfPresent(Kind.self, forKey: .kind) ?? .article
    }

    /// Splits a text into its paragraphs (separated by blank lines), each trimmed of white space,
    /// the empty ones left out.
    ///
    /// It reads the UTF-8 once: a paragraph ends at `\n\n` (not at `\r\n\n`, where `\r\n` is
    /// one character, as splitting on the characters `"\n\n"` has it). Splitting the String
    /// on `"\n\n"` and trimming each part with Foundation went by grapheme and by UTF-16, about
    /// 50 ns a byte: most of `runnel validate`'s time on lines without `paragraphs`, and of
    /// `runnel export`'s.
    public static func split(_ text: String) -> [String] {
        var text = text
        return text.withUTF8 { bytes in
            var paragraphs: [String] = []
            var start = 0
            var i = 0
            let lf = UInt8(ascii: "\n")
            while i + 1 < bytes.count {
                if bytes[i] == lf && bytes[i + 1] == lf && (i == 0 || bytes[i - 1] != UInt8(ascii: "\r")) {
                    appendTrimmed(UnsafeBufferPointer(rebasing: bytes[start..<i]), to: &paragraphs)
                    i += 2
                    start = i
                } else {
                    i += 1
                }
            }
            appendTrimmed(UnsafeBufferPointer(rebasing: bytes[start...]), to: &paragraphs)
            return paragraphs
        }
    }

    /// Appends `bytes` (whole UTF-8) without its leading and trailing white space, unless that
    /// leaves nothing: Foundation's `whitespacesAndNewlines`, scalar by scalar at each end.
    private static func appendTrimmed(_ bytes: UnsafeBufferPointer<UInt8>, to paragraphs: inout [String]) {
        let scalars = String(decoding: bytes, as: UTF8.self).unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        while start < end, CharacterSet.whitespacesAndNewlines.contains(scalars[start]) {
            start = scalars.index(after: start)
        }
        while start < end, CharacterSet.whitespacesAndNewlines.contains(scalars[scalars.index(before: end)]) {
            end = scalars.index(before: end)
        }
        if start < end { paragraphs.append(String(scalars[start..<end])) }
    }
}
