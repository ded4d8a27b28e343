import Foundation
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

    /// The options as the stage's service definition lists them (`Protocol/services/enrich.json`,
    /// which a test keeps equal to this). Names are snake_case as in every service definition;
    /// the CLI spells them as flags (`--max-keywords`). The protocol has no number type, so the
    /// confidence is a string holding a number.
    public static let documented: [ServiceDefinition.Option] = {
        let d = EnrichOptions()
        return [
            .init(name: "min_language_confidence", type: "string", default: "\(d.minLanguageConfidence)",
                  help: "A number from 0 to 1: below this CLD2 confidence the page's declared lang is used."),
            .init(name: "max_keywords", type: "integer", default: "\(d.maxKeywords)",
                  help: "The most keywords kept."),
            .init(name: "max_entities", type: "integer", default: "\(d.maxEntities)",
                  help: "The most entities kept, the most mentioned first."),
            .init(name: "max_quotes", type: "integer", default: "\(d.maxQuotes)",
                  help: "The most quotations kept."),
            .init(name: "summary_sentences", type: "integer", default: "\(d.summarySentences)",
                  help: "The most sentences in the summary."),
            .init(name: "summary_max_characters", type: "integer", default: "\(d.summaryMaxCharacters)",
                  help: "The most characters in the summary."),
            .init(name: "max_analyzed_characters", type: "integer", default: "\(d.maxAnalyzedCharacters)",
                  help: "Entities, quotes, keywords and the summary read at most this many characters of the text."),
        ]
    }()

    /// Checks the values.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` naming the option and the valid range.
    public func validate() throws(RunnelError) {
        func named(_ option: String) -> String {
            "\(option) (--\(option.replacingOccurrences(of: "_", with: "-")))"
        }
        guard (0...1).contains(minLanguageConfidence) else {
            throw RunnelError(
                .invalidArgument,
                "\(named("min_language_confidence")) must be between 0 and 1, got \(minLanguageConfidence)")
        }
        for (name, value) in [
            ("max_keywords", maxKeywords), ("max_entities", maxEntities), ("max_quotes", maxQuotes),
            ("summary_sentences", summarySentences), ("summary_max_characters", summaryMaxCharacters),
            ("max_analyzed_characters", maxAnalyzedCharacters),
        ] where value < 0 {
            throw RunnelError(.invalidArgument, "\(named(name)) must be 0 or more, got \(value)")
        }
    }
}
