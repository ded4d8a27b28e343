import ArgumentParser
import ParseStage
import RunnelProtocol

struct Parse: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Extract the article from fetched pages: page.fetched in, article.parsed out.",
        discussion: """
            For each page.fetched message it finds the article's title, its text \
            (paragraphs separated by a blank line), byline, published and updated \
            dates (ISO 8601), description, canonical URL, site name, declared \
            language, images with captions, outlinks and the page's own list of \
            related articles, and says whether the page is an article, a listing \
            or something else. Menus, most-read and other-news lists, share bars, \
            comments, footers and cookie banners stay out of the text. text/plain \
            pages are read line by line. A page without an article still gives an \
            article.parsed, with empty text.

              runnel fetch < urls.txt | runnel parse \\
                | runnel enrich | runnel store --db news.sqlite

            See what it extracts from a captured link:

              runnel cat fetched.jsonl.zst | runnel parse \\
                | jq -r '.body | .title, .text'

            Failures, one error record each: FAILED_PRECONDITION for a content \
            type that is not HTML or text (image/png), OUT_OF_RANGE for a \
            page above --max-html-bytes, DATA_LOSS for a page decoded with the \
            wrong charset (mostly replacement characters), INVALID_ARGUMENT for \
            a body that is not a page.fetched.

            \(pipeDeliveryHelp)
            """
    )

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

    @Option(
        name: .customLong("max-html-bytes"),
        help: .value("Refuse pages larger than this (OUT_OF_RANGE).", default: ByteSize(bytes: ParseStage.Configuration().maxHTMLBytes), example: "2MiB", valueName: "size"),
        transform: ByteSize.argument("--max-html-bytes", range: ByteSize(bytes: 1) ... .maximum))
    var maxHTMLBytes = ByteSize(bytes: ParseStage.Configuration().maxHTMLBytes)

    @Option(
        name: .customLong("min-text-chars"),
        help: .value("Pages with less text than this many characters are not articles: empty text, kind listing or other.", example: "200"))
    var minArticleLength: Int = ParseStage.Configuration().minArticleLength

    @Option(
        name: .customLong("tree"),
        help: ArgumentHelp(
            "Which HTML tree builder: automatic (Runnel's own tokenizer and tree builder, and gumbo for a page "
                + "where its tree would depart from a browser's), native (Runnel's own for every page), html5 (gumbo) or "
                + "libxml2. RUNNEL_PARSE_TREE sets the default.",
            valueName: "builder"))
    var tree = TreeConstruction.fromEnvironment

    @Flag(
        name: .customLong("no-jsonld-body"),
        help: "Never replace the extracted text with JSON-LD articleBody, even when that is more complete.")
    var noJSONLDBody = false

    func validate() throws {
        guard minArticleLength >= 0 else { throw ValidationError("--min-text-chars cannot be negative") }
    }

    func run() async throws {
        let configuration = ParseStage.Configuration(
            maxHTMLBytes: maxHTMLBytes.bytes, minArticleLength: minArticleLength, useJSONLDArticleBody: !noJSONLDBody,
            treeConstruction: tree)
        try await runStage(ParseStage(configuration: configuration), options: runtime)
    }
}

extension TreeConstruction: ExpressibleByArgument {}
