import RunnelProtocol
import RunnelStage

/// The enrich stage: `article.parsed` in, `article.enriched` out.
///
/// Adds what an article is about to the parsed fields (kept as they are, flat in the same
/// body): `language` (`code`, `confidence`), `entities`, `quotes`, `keywords`, `summary`,
/// `word_count`, `reading_time_s`, `simhash` and `content_hash`. See ``Enricher`` for how each
/// is computed and ``EnrichOptions`` for the options.
///
/// ```sh
/// runnel parse < pages.jsonl | runnel enrich --max-keywords 5 | jq .body.entities
/// ```
///
/// A message of another type fails with `FAILED_PRECONDITION` (as the runner also says), and a
/// body that is not an `article.parsed` with `INVALID_ARGUMENT`; neither is retried, since
/// sending it again cannot help.
public struct EnrichStage: MessageStage {
    /// The accepted message type.
    public static let accepts = "article.parsed"
    /// The emitted message type.
    public static let emits = "article.enriched"

    /// The name ("enrich"), the types it accepts and emits, and its options (as published in
    /// `Protocol/services/enrich.json`).
    public let service: ServiceDefinition
    /// The enrichment itself.
    public let enricher: Enricher

    /// Creates the stage.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` when an option is out of range.
    public init(options: EnrichOptions = EnrichOptions()) throws(RunnelError) {
        try options.validate()
        enricher = Enricher(options: options)
        service = ServiceDefinition(
            name: "enrich",
            summary: "Adds what an article is about: language, entities, quotes, keywords, a summary, reading time, a SimHash and a content hash.",
            accepts: [Self.accepts], emits: [Self.emits], options: EnrichOptions.documented)
    }

    /// Enriches one `article.parsed` message.
    /// - Throws: ``RunnelError`` with `FAILED_PRECONDITION` for another type, `INVALID_ARGUMENT`
    ///   for a body that is not an `article.parsed` (naming the field that is wrong).
    public func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        guard message.type == Self.accepts else {
            throw RunnelError(
                .failedPrecondition,
                "enrich accepts \(Self.accepts) messages, got \(message.type); put it after a parse stage")
        }
        let enriched = enricher.enrich(try Self.article(in: message.body))
        guard let body = enriched.jsonBody else { return [try Emission(type: Self.emits, encoding: enriched)] }
        return [Emission(type: Self.emits, body: body)]
    }

    /// The `article.parsed` in `body`: read straight from its bytes, or by the decoder when it
    /// holds anything that reader leaves to it (the decoder also names what is wrong).
    private static func article(in body: RawJSON) throws(RunnelError) -> ArticleParsed {
        if let article = ArticleParsed(reading: body) { return article }
        do {
            return try body.decode(ArticleParsed.self)
        } catch {
            throw RunnelError(
                .invalidArgument, "\(error.message); an article.parsed body needs at least url, title and text",
                cause: error)
        }
    }
}
