import RunnelProtocol

/// How the enrich stage works: one `Sendable` value that the CLI flags, the pipeline file and
/// `runnel describe` all map onto.
///
/// ```swift
/// var options = EnrichOptions()
/// options.maxKeywords = 5
/// let stage = EnrichStage(options: options)
/// ```
public struct EnrichOptions: Sendable, Hashable {
    /// Below this CLD2 confidence (0…1) the page's declared `lang` is used instead. Default 0.5.
    public var minLanguageConfidence: Double
    /// Most keywords per article. Default 10.
    public var maxKeywords: Int
    /// Most entities per article, the most mentioned first. Default 50.
    public var maxEntities: Int
    /// Most quotations per article. Default 20.
    public var maxQuotes: Int
    /// Most sentences in the summary. Default 3.
    public var summarySentences: Int
    /// Most characters (Unicode scalars) in the summary. Default 600.
    public var summaryMaxCharacters: Int
    /// Entities, quotes, keywords and the summary look at no more than this many characters of
    /// the text (word count, hashes and language use all of it). Default 200,000.
    public var maxAnalyzedCharacters: Int

    /// Creates options; every parameter has the documented default.
    public init(
        minLanguageConfidence: Double = 0.5, maxKeywords: Int = 10, maxEntities: Int = 50,
        maxQuotes: Int = 20, summarySentences: Int = 3, summaryMaxCharacters: Int = 600,
        maxAnalyzedCharacters: Int = 200_000
    ) {
        self.minLanguageConfidence = minLanguageConfidence
        self.maxKeywords = maxKeywords
        self.maxEntities = maxEntities
        self.maxQuotes = maxQuotes
        self.summarySentences = summarySentences
        self.summaryMaxCharacters = summaryMaxCharacters
        self.maxAnalyzedCharacters = maxAnalyzedCharacters
    }

    /// The options as the stage's service definition lists them.
    public static let documented: [ServiceDefinition.Option] = {
        let d = EnrichOptions()
        return [
            .init(name: "min-language-confidence", type: "number", default: "\(d.minLanguageConfidence)",
                  help: "Below this CLD2 confidence (0…1) the page's declared lang is used."),
            .init(name: "max-keywords", type: "integer", default: "\(d.maxKeywords)",
                  help: "Most keywords per article."),
            .init(name: "max-entities", type: "integer", default: "\(d.maxEntities)",
                  help: "Most entities per article, the most mentioned first."),
            .init(name: "max-quotes", type: "integer", default: "\(d.maxQuotes)",
                  help: "Most quotations per article."),
            .init(name: "summary-sentences", type: "integer", default: "\(d.summarySentences)",
                  help: "Most sentences in the summary."),
            .init(name: "summary-max-characters", type: "integer", default: "\(d.summaryMaxCharacters)",
                  help: "Most characters in the summary."),
            .init(name: "max-analyzed-characters", type: "integer", default: "\(d.maxAnalyzedCharacters)",
                  help: "Entities, quotes, keywords and summary read at most this many characters of the text."),
        ]
    }()

    /// Checks the values.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` naming the option and the valid range.
    public func validate() throws(RunnelError) {
        guard (0...1).contains(minLanguageConfidence) else {
            throw RunnelError(.invalidArgument, "min-language-confidence must be between 0 and 1, got \(minLanguageConfidence)")
        }
        for (name, value) in [
            ("max-keywords", maxKeywords), ("max-entities", maxEntities), ("max-quotes", maxQuotes),
            ("summary-sentences", summarySentences), ("summary-max-characters", summaryMaxCharacters),
            ("max-analyzed-characters", maxAnalyzedCharacters),
        ] where value < 0 {
            throw RunnelError(.invalidArgument, "\(name) must be 0 or more, got \(value)")
        }
    }
}
