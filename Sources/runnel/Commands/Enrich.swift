import ArgumentParser
import EnrichStage
import RunnelProtocol

struct Enrich: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "enrich",
        abstract: "Add what each article is about: article.parsed in, article.enriched out.",
        discussion: """
            Each output body is the parsed article's fields, unchanged, plus:

              language       {code, confidence}: CLD2's answer, ISO 639-1 and 0…1;
                             the page's declared lang when CLD2 is unsure
              entities       [{text, kind, count, first}]: people, organizations
                             and places, found by capitals, cue words (ông, Bộ,
                             President, Council), acronyms and known names;
                             first = code-point offset of the first mention
              quotes         [{text, speaker}]: “…” - Người phát ngôn X nói,
                             "…," said X, X said: "…"
              keywords       phrases the text repeats, multi-word where the
                             language needs it (Vietnamese: "phái bộ")
              summary        the lead sentences, bounded in number and length
              word_count     words; syllables in Vietnamese, characters in
                             Chinese and Japanese
              reading_time_s 228 words/min in English, 250 syllables/min in
                             Vietnamese, 255 characters/min in Chinese…
              simhash        64-bit SimHash of 3-word shingles, 16 hex digits;
                             near-duplicates differ in few bits (popcount of XOR)
              content_hash   SHA-256 of title and text, NFC, spaces collapsed

            No model is downloaded: all of it runs in-process, in well under a \
            millisecond of CPU for a typical article.

              runnel cat parsed.jsonl | runnel enrich | jq -c .body.entities
              runnel enrich --max-keywords 5 --zstd < parsed.jsonl > out.jsonl.zst

            A message of another type fails with FAILED_PRECONDITION, a body that \
            is not an article.parsed with INVALID_ARGUMENT; neither is retried.

            \(pipeDeliveryHelp)
            """
    )

    @Option(help: .value("Below this CLD2 confidence (0…1) the declared lang is used.", example: "0.8", valueName: "0…1"))
    var minLanguageConfidence: Double = EnrichOptions().minLanguageConfidence

    @Option(help: .value("Most keywords per article.", example: "5"))
    var maxKeywords: Int = EnrichOptions().maxKeywords

    @Option(help: .value("Most entities per article, the most mentioned first.", example: "50"))
    var maxEntities: Int = EnrichOptions().maxEntities

    @Option(help: .value("Most quotations per article.", example: "3"))
    var maxQuotes: Int = EnrichOptions().maxQuotes

    @Option(help: .value("Most sentences in the summary.", example: "2"))
    var summarySentences: Int = EnrichOptions().summarySentences

    @Option(help: .value("Most characters in the summary.", example: "280"))
    var summaryMaxCharacters: Int = EnrichOptions().summaryMaxCharacters

    @OptionGroup(title: "Input") var input: InputOptions
    @OptionGroup(title: "Input") var stream: StreamOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Output") var compression: CompressionOptions
    @OptionGroup(title: "Reliability") var delivery: DeliveryOptions
    @OptionGroup(title: "Reliability") var failures: FailureOptions
    @OptionGroup(title: "Security") var key: KeyOption
    @OptionGroup(title: "Security") var trust: TLSTrustOptions
    @OptionGroup(title: "Security") var listener: TLSListenerOptions
    @OptionGroup(title: "Security") var client: TLSClientOptions
    @OptionGroup(title: "Observability") var observability: ObservabilityOptions
    @OptionGroup(title: "Observability") var capture: CaptureFlags
    @OptionGroup(title: "Observability") var rotation: CaptureRotationOptions
    @OptionGroup var supervised: SupervisedOptions

    var options: EnrichOptions {
        EnrichOptions(
            minLanguageConfidence: minLanguageConfidence, maxKeywords: maxKeywords, maxEntities: maxEntities,
            maxQuotes: maxQuotes, summarySentences: summarySentences, summaryMaxCharacters: summaryMaxCharacters)
    }

    func validate() throws {
        do throws(RunnelError) {
            try options.validate()
        } catch {
            throw ValidationError(error.message)
        }
    }

    func run() async throws {
        try await runStage(EnrichStage(options: options), options: runtime)
    }
}
