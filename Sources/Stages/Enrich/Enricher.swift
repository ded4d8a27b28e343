import RunnelProtocol

/// Turns a parsed article into an enriched one: language, entities, quotes, keywords, summary,
/// word count, reading time, SimHash and content hash. Pure and synchronous; no I/O, no model.
///
/// Each part has its own type, which documents its method:
/// - ``LanguageDetector``: CLD2, falling back to the declared `lang` when unsure;
/// - `TokenizedText`: words (syllables in Vietnamese, characters in Chinese) and sentences;
/// - `ReadingStats`: word count and reading time per language;
/// - `EntityExtractor`, `QuoteExtractor`, `KeywordExtractor`, `Summarizer`: the analyses, which
///   read at most ``EnrichOptions/maxAnalyzedCharacters`` of the text;
/// - ``SimHash`` and ``ContentHash``: the fingerprints, over the whole text.
///
/// With an empty text, the language and the SimHash come from the title, the summary is the
/// page's description, and the counts are 0.
///
/// ```swift
/// let enriched = Enricher().enrich(article)
/// print(enriched.language.code, enriched.wordCount, enriched.simhash)
/// ```
public struct Enricher: Sendable {
    /// The options in force.
    public var options: EnrichOptions

    /// Creates an enricher.
    public init(options: EnrichOptions = EnrichOptions()) {
        self.options = options
    }

    /// Enriches one article. Never fails: an empty text gives empty lists, a word count of 0,
    /// the declared language (or `und`) with confidence 0.
    public func enrich(_ article: ArticleParsed) -> ArticleEnriched {
        let detector = LanguageDetector(minimumConfidence: options.minLanguageConfidence)
        let language = detector.detect(article.text.isEmpty ? article.title : article.text, declared: article.lang)
        let text = TokenizedText(article.text)
        let stats = ReadingStats(text, language: language.code)
        let simhash = SimHash.fingerprint(text.tokens.isEmpty ? TokenizedText(article.title) : text)

        let analyzed = text.scalars.count > options.maxAnalyzedCharacters
            ? TokenizedText(text.string(0..<options.maxAnalyzedCharacters)) : text
        let stopwords = Stopwords.forLanguage(language.code)
        var extractor = EntityExtractor(analyzed, stopwords: stopwords)
        let entities = extractor.extract(limit: options.maxEntities)
        let quotes = QuoteExtractor(text: analyzed, entities: entities).extract(limit: options.maxQuotes)
        let keywords = KeywordExtractor(
            text: analyzed, title: TokenizedText(article.title), language: language.code, stopwords: stopwords,
            mentions: entities.mentions.map(\.tokens)
        ).extract(limit: options.maxKeywords)
        let summary = Summarizer(sentences: options.summarySentences, maxCharacters: options.summaryMaxCharacters)
            .summarize(analyzed)

        return ArticleEnriched(
            article: article, language: language, entities: entities.entities, quotes: quotes,
            keywords: keywords, summary: summary.isEmpty ? (article.description ?? "") : summary,
            wordCount: stats.wordCount, readingTimeS: stats.readingTimeS, simhash: SimHash.hex(simhash),
            contentHash: ContentHash.of(title: article.title, text: article.text))
    }
}
