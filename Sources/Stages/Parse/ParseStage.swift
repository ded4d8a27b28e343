import CJSONScan
import Foundation
import RunnelProtocol
import RunnelStage

/// The parse stage: `page.fetched` → `article.parsed`.
///
/// HTML goes through Runnel's own tokenizer and tree builder into a lightweight block tree, where readability-style scoring picks
/// the article and drops the site around it (menus, related and most-read lists, share bars,
/// comments, footers, cookie banners); captions go to `images`, the page's own "related" list to
/// `related`. `text/plain` pages are read line by line. A page with no article still yields an
/// `article.parsed`, with empty text and `kind` `listing` or `other`.
///
/// The steps, each in its own files: decode the body (``PageDecoder``); scan the markup for
/// hostile shapes and the parts the tree never reads (``MarkupScan``); build the tree
/// (``HTMLTreeBuilder`` drives ``HTMLTokenizer`` and ``TreeBuilder``, or gumbo
/// (``HTML5TreeConstruction``) where the native tree would depart from a browser's, or libxml2;
/// all into a ``Walker``:
/// `Walker+Elements`, `Walker+Text`, `Walker+Attributes`); score and select the content's roots
/// (`ContentExtractor+Selecting`); clean the blocks under them (`ContentExtractor+Cleaning`);
/// read the metadata (``MetadataExtractor``, ``JSONLinkedData``, ``DateNormalizer``); put the
/// article together (``HTMLArticleParser``).
///
/// ```swift
/// let stage = ParseStage()
/// let article = try stage.parse(PageFetched(url: "https://example.com/a", html: html))
/// print(article.title, article.paragraphs.count)
/// ```
///
/// Errors: `FAILED_PRECONDITION` for a content type that is not HTML or text, `OUT_OF_RANGE`
/// above ``Configuration/maxHTMLBytes``, `OUT_OF_RANGE` for a tag with more attributes than
/// ``Configuration/maxAttributes`` or markup left open deeper than ``Configuration/maxDepth``
/// (hostile pages the HTML parsers would take quadratic time on; see ``MarkupScan``), `DATA_LOSS` for a document that is mostly replacement or
/// control characters (a wrong charset or a binary body), `INVALID_ARGUMENT` for a body that is
/// not a `page.fetched`.
public struct ParseStage: MessageStage {
    /// The limits and switches the stage runs with.
    public let configuration: Configuration

    /// Creates the stage.
    /// - Parameter configuration: limits and switches; the defaults suit news pages.
    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    /// The stage's name, types and options, as `Protocol/services/parse.json` has them.
    public var service: ServiceDefinition {
        ServiceDefinition(
            name: "parse",
            summary: "Finds the article in a fetched page: title, byline, dates, main text without the site's boilerplate, images and links.",
            accepts: [MessageType.pageFetched],
            emits: [MessageType.articleParsed],
            options: [
                .init(
                    name: "max_html_bytes", type: "integer", default: String(configuration.maxHTMLBytes),
                    help: "A larger page fails with OUT_OF_RANGE."),
                .init(
                    name: "min_text_chars", type: "integer", default: String(configuration.minArticleLength),
                    help: "A page with less main text than this is emitted with kind \"listing\" or \"other\"."),
                .init(
                    name: "jsonld_body", type: "boolean", default: String(configuration.useJSONLDArticleBody),
                    help: "Use JSON-LD articleBody when it is clearly more complete than the extracted text."),
                .init(
                    name: "tree", type: "string", default: configuration.treeConstruction.rawValue,
                    help: "The HTML tree builder: automatic (Runnel's own, gumbo where its tree would depart from a browser's), native, html5 or libxml2."),
            ])
    }

    /// Parses the `page.fetched` in `message` into one `article.parsed`.
    /// - Throws: ``RunnelError`` as described on the type.
    public func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        let page = try PageDecoder.decode(message.body)
        let article = try page.html.withUnsafeBufferPointer { html throws(RunnelError) in
            try parse(page.fields, html: html)
        }
        return [Emission(type: MessageType.articleParsed, body: article.jsonBody)]
    }

    /// Parses one fetched page.
    /// - Throws: ``RunnelError`` as described on the type.
    public func parse(_ page: PageFetched) throws(RunnelError) -> ArticleParsed {
        try Array(page.html.utf8).withUnsafeBufferPointer { html throws(RunnelError) in try parse(page, html: html) }
    }

    /// Parses the page whose fields are `page` (its `html` is not read) and whose html is `html`
    /// (valid UTF-8).
    func parse(_ page: PageFetched, html: UnsafeBufferPointer<UInt8>) throws(RunnelError) -> ArticleParsed {
        let mediaType = (page.contentType ?? "text/html").split(separator: ";").first.map {
            $0.trimmingSpaces().lowercased()
        } ?? "text/html"
        let isHTML = mediaType.isEmpty || mediaType == "text/html" || mediaType == "application/xhtml+xml"
            || mediaType.hasSuffix("+html")
        let isText = mediaType == "text/plain"
        guard isHTML || isText else {
            throw RunnelError(
                .failedPrecondition,
                "parse reads text/html, application/xhtml+xml and text/plain pages; this page is \(mediaType). "
                    + "Send only HTML and text pages to parse (have fetch skip other types).")
        }
        guard html.count <= configuration.maxHTMLBytes else {
            throw RunnelError(
                .outOfRange,
                "the page is \(Self.size(html.count)) of HTML, above max-html-bytes "
                    + "(\(Self.size(configuration.maxHTMLBytes))); raise --max-html-bytes to parse it.")
        }
        try Self.checkDecodable(html)
        if Self.contains(html, 0) {
            // The HTML parsers read C strings: NUL bytes go.
            return try html.filter { $0 != 0 }.withUnsafeBufferPointer { html throws(RunnelError) in
                try parse(page, html: html)
            }
        }
        if isText || (page.contentType == nil && !Self.contains(html, UInt8(ascii: "<"))) {
            return PlainTextArticleParser(configuration: configuration).parse(
                text: String(decoding: html, as: UTF8.self), url: page.url)
        }
        // The native builder checks the limits as it reads; libxml2 and gumbo get pages the scan has checked.
        let construction = configuration.treeConstruction
        let omitting =
            construction == .native || construction == .automatic
            ? [] : try MarkupScan.check(html, against: configuration.limits, collectingUnread: construction == .libxml2).unread
        let base = page.finalURL ?? page.url
        var article = try HTMLArticleParser(configuration: configuration).parse(html: html, url: base, omitting: omitting)
        article.url = page.url
        return article
    }

    /// Fails with `DATA_LOSS` when the document is mostly U+FFFD or control characters: it was
    /// decoded with the wrong charset, or it is not text.
    static func checkDecodable(_ bytes: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        let (total, bad) = characterCounts(bytes)
        guard total >= 64, bad * 10 > total else { return }
        throw RunnelError(
            .dataLoss,
            "\(bad * 100 / total)% of the first \(total) characters are replacement or control characters; "
                + "the page was decoded with the wrong charset or is not text. Check the fetch stage's charset.")
    }

    /// How many characters of `bytes` ``checkDecodable(_:)`` reads (about the first 65,536), and
    /// how many of them are U+FFFD or control characters other than tab, line feed and carriage
    /// return.
    static func characterCounts(_ bytes: UnsafeBufferPointer<UInt8>) -> (total: Int, bad: Int) {
        var total = 0
        var bad = 0
        var index = 0
        let base = UnsafeRawPointer(bytes.baseAddress)
        while index < bytes.count && total < 65536 {
            // Sixteen bytes at a time where SSE2 is (runnel_text_count_run, by the same rules).
            if let base = bytes.baseAddress, index + 16 <= bytes.count {
                let next = runnel_text_count_run(base, bytes.count, index, 65536, &total, &bad)
                if next > index {
                    index = next
                    continue
                }
            }
            // Eight bytes at a time unless one is the BD that ends U+FFFD: each byte but a
            // continuation byte starts a character, and the control bytes but tab, line feed and
            // carriage return are counted bad, all with bit tricks exact for each byte.
            var end = bytes.count
            if let base, index + 8 <= bytes.count {
                let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                let high = word & WordBytes.highs
                if high == 0 || WordBytes.equal(word, to: 0xBD) == 0 {
                    let controls = WordBytes.control(word)
                    if controls != 0 {
                        let allowed = WordBytes.equal(word, to: 0x09) | WordBytes.equal(word, to: 0x0A) | WordBytes.equal(word, to: 0x0D)
                        let wrong = controls & ~allowed
                        if wrong != 0 { bad += wrong.nonzeroBitCount }
                    }
                    total += high == 0 ? 8 : 8 - WordBytes.continuationCount(word)
                    index += 8
                    continue
                }
                end = index + 8
            }
            while index < end {
                let byte = bytes[index]
                if byte & 0xC0 != 0x80 { total += 1 }
                if byte < 0x20 && byte != 0x0A && byte != 0x0D && byte != 0x09 { bad += 1 }
                // U+FFFD is EF BF BD.
                if byte == 0xBD && index >= 2 && bytes[index - 1] == 0xBF && bytes[index - 2] == 0xEF { bad += 1 }
                index += 1
            }
        }
        return (total, bad)
    }

    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ byte: UInt8) -> Bool {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return false }
        return memchr(base, Int32(byte), bytes.count) != nil
    }

    /// `20.0 MiB`, or `13471 bytes` below a mebibyte.
    private static func size(_ bytes: Int) -> String {
        guard bytes >= 1_048_576 else { return "\(bytes) bytes" }
        let value = Double(bytes) / 1_048_576
        return "\((value * 10).rounded() / 10) MiB"
    }
}
