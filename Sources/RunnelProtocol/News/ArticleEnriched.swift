/// `article.enriched`: a parsed article and what it is about.
///
/// On the wire it is the `article.parsed` body's fields plus the enrichment fields, flat.
public struct ArticleEnriched: Sendable, Hashable, Codable {
    public struct Language: Sendable, Hashable, Codable {
        /// ISO 639-1 where one exists (`vi`, `en`, `zh`).
        public var code: String
        /// 0…1.
        public var confidence: Double
        public init(code: String, confidence: Double) {
            self.code = code
            self.confidence = confidence
        }
    }

    public struct Entity: Sendable, Hashable, Codable {
        public var text: String
        /// `person`, `organization`, `place` or `other`.
        public var kind: String
        public var count: Int
        /// Character offset of the first mention in `text`.
        public var first: Int
        public init(text: String, kind: String, count: Int, first: Int) {
            self.text = text
            self.kind = kind
            self.count = count
            self.first = first
        }
    }

    public struct Quote: Sendable, Hashable, Codable {
        public var text: String
        public var speaker: String?
        public init(text: String, speaker: String?) {
            self.text = text
            self.speaker = speaker
        }
    }

    public var article: ArticleParsed
    public var language: Language
    public var entities: [Entity]
    public var quotes: [Quote]
    public var keywords: [String]
    public var summary: String
    public var wordCount: Int
    public var readingTimeS: Int
    /// 64-bit SimHash of the text's shingles, 16 hex digits.
    public var simhash: String
    /// SHA-256 of the normalized title and text, hex.
    public var contentHash: String

    enum CodingKeys: String, CodingKey {
        case language, entities, quotes, keywords, summary, simhash
        case wordCount = "word_count"
        case readingTimeS = "reading_time_s"
        case contentHash = "content_hash"
    }

    public init(
        article: ArticleParsed, language: Language, entities: [Entity] = [], quotes: [Quote] = [],
        keywords: [String] = [], summary: String = "", wordCount: Int = 0, readingTimeS: Int = 0,
        simhash: String, contentHash: String
    ) {
        self.article = article
        self.language = language
        self.entities = entities
        self.quotes = quotes
        self.keywords = keywords
        self.summary = summary
        self.wordCount = wordCount
        self.readingTimeS = readingTimeS
        self.simhash = simhash
        self.contentHash = contentHash
    }

    public init(from decoder: any Decoder) throws {
        article = try ArticleParsed(from: decoder)
        let c = try decoder.container(keyedBy: CodingKeys.self)
        language = try c.decode(Language.self, forKey: .language)
        entities = try c.decodeIfPresent([Entity].self, forKey: .entities) ?? []
        quotes = try c.decodeIfPresent([Quote].self, forKey: .quotes) ?? []
        keywords = try c.decodeIfPresent([String].self, forKey: .keywords) ?? []
        summary = try c.decodeIfPresent(String.self, forKey: .summary) ?? ""
        wordCount = try c.decode(Int.self, forKey: .wordCount)
        readingTimeS = try c.decodeIfPresent(Int.self, forKey: .readingTimeS) ?? 0
        simhash = try c.decode(String.self, forKey: .simhash)
        contentHash = try c.decode(String.self, forKey: .contentHash)
    }

    public func encode(to encoder: any Encoder) throws {
        try article.encode(to: encoder)
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(language, forKey: .language)
        try c.encode(entities, forKey: .entities)
        try c.encode(quotes, forKey: .quotes)
        try c.encode(keywords, forKey: .keywords)
        try c.encode(summary, forKey: .summary)
        try c.encode(wordCount, forKey: .wordCount)
        try c.encode(readingTimeS, forKey: .readingTimeS)
        try c.encode(simhash, forKey: .simhash)
        try c.encode(contentHash, forKey: .contentHash)
    }
}
