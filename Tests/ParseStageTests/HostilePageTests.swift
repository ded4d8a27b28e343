import Foundation
import RunnelProtocol
import RunnelStage
import Testing

@testable import ParseStage

/// Pages that must not crash or hang the stage: each gets a clear status or an empty article,
/// and the stage keeps working afterwards.
@Suite("Hostile pages")
struct HostilePageTests {
    let stage = ParseStage()

    func page(_ html: String, type: String? = "text/html") -> PageFetched {
        PageFetched(url: "https://example.com/page", contentType: type, html: html)
    }

    func code(_ body: () throws(RunnelError) -> ArticleParsed) -> StatusCode? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.code
        }
    }

    /// Proves the stage still parses a normal page.
    func stillWorks() throws {
        let html = try Fixture.text("page.vi.seed-style.html")
        #expect(try stage.parse(page(html)).paragraphs.count == 7)
    }

    @Test("a 20 MB page is refused with OUT_OF_RANGE (final, not retried), naming the limit")
    func hugePage() throws {
        let chunk = "<p>" + String(repeating: "word ", count: 200) + "</p>\n"
        let html = "<html><body>" + String(repeating: chunk, count: 20 * 1_048_576 / chunk.utf8.count + 1) + "</body></html>"
        #expect(html.utf8.count > 20 * 1_048_576)
        do {
            _ = try stage.parse(page(html))
            Issue.record("a 20 MB page was parsed")
        } catch {
            #expect(error.code == .outOfRange)
            #expect(error.message.contains("max-html-bytes"))
        }
        try stillWorks()
    }

    @Test("maxHTMLBytes is configurable")
    func configurableLimit() throws {
        let small = ParseStage(configuration: .init(maxHTMLBytes: 1000))
        let html = "<p>" + String(repeating: "a ", count: 600) + "</p>"
        #expect(code { () throws(RunnelError) in try small.parse(page(html)) } == .outOfRange)
        #expect(code { () throws(RunnelError) in try small.parse(page("<p>short</p>")) } == nil)
    }

    @Test("a page nested 1,000 deep parses without overflowing the stack; 10,000 deep is refused", .timeLimit(.minutes(1)))
    func deepNesting() throws {
        func nestedPage(_ depth: Int) -> String {
            "<html><body>" + String(repeating: "<div>", count: depth)
                + "<p>Deep inside the page there is still a sentence, long enough to count as text.</p>"
                + String(repeating: "</div>", count: depth) + "</body></html>"
        }
        let article = try stage.parse(page(nestedPage(1000)))
        #expect(article.url == "https://example.com/page")
        // Past the depth limit the page is refused (RELIABILITY.md, "Hostile HTML").
        do {
            _ = try stage.parse(page(nestedPage(10_000)))
            Issue.record("a page nested 10,000 deep was parsed")
        } catch {
            #expect(error.code == .outOfRange)
            #expect(error.message.contains("limit of 1024"))
        }
        let depth = 10_000
        let nested = String(repeating: "<span><b><i>", count: depth) + "text" + String(repeating: "</i></b></span>", count: depth)
        #expect(code { () throws(RunnelError) in try stage.parse(page("<html><body><p>" + nested + "</p></body></html>")) } == .outOfRange)
        try stillWorks()
    }

    @Test("NUL bytes are dropped and the page parses")
    func nulBytes() throws {
        var html = try Fixture.text("page.vi.seed-style.html")
        html = html.replacingOccurrences(of: "<p>Cũng theo", with: "<p>\u{0}Cũng\u{0} theo")
        let article = try stage.parse(page(html))
        #expect(article.paragraphs.count == 7)
        #expect(!article.text.contains("\u{0}"))
        #expect(article.text.contains("Cũng theo bà Lungescu"))
    }

    @Test("a page decoded with the wrong charset fails with DATA_LOSS")
    func brokenEncoding() throws {
        let garbage = String(repeating: "\u{FFFD}\u{FFFD}a\u{FFFD}", count: 2000)
        #expect(code { () throws(RunnelError) in try stage.parse(page("<html><body><p>" + garbage + "</p></body></html>")) } == .dataLoss)
        let binary = String(decoding: (0..<4000).map { UInt8($0 % 32) }, as: UTF8.self)
        #expect(code { () throws(RunnelError) in try stage.parse(page(binary)) } == .dataLoss)
        // Text beyond ASCII is read eight bytes at a time; what it hides is still counted.
        let chinese = String(repeating: "中文的字\u{FFFD}", count: 2000)  // one character in five
        #expect(code { () throws(RunnelError) in try stage.parse(page("<p>" + chinese + "</p>")) } == .dataLoss)
        let russian = String(repeating: "текст\u{1}", count: 2000)  // one in six
        #expect(code { () throws(RunnelError) in try stage.parse(page("<p>" + russian + "</p>")) } == .dataLoss)
        let text = String(repeating: "中文的字，\n", count: 2000)  // line breaks are not control characters
        #expect(code { () throws(RunnelError) in try stage.parse(page("<p>" + text + "</p>")) } == nil)
        try stillWorks()
    }

    @Test("non-HTML content types fail with FAILED_PRECONDITION", arguments: ["image/png", "application/pdf", "application/octet-stream"])
    func nonHTML(type: String) throws {
        #expect(code { () throws(RunnelError) in try stage.parse(page("\u{89}PNG", type: type)) } == .failedPrecondition)
    }

    @Test("content types with parameters and XHTML are accepted")
    func contentTypeParameters() throws {
        let html = "<html><body><p>Hello.</p></body></html>"
        #expect(code { () throws(RunnelError) in try stage.parse(page(html, type: "text/html; charset=utf-8")) } == nil)
        #expect(code { () throws(RunnelError) in try stage.parse(page(html, type: "application/xhtml+xml")) } == nil)
    }

    @Test("a page with no article: empty text, kind listing or other, never a crash", arguments: [
        "", "<html></html>", "<html><body></body></html>", "not html at all <", "<<<>>>&&&;;", "<html><head><title>Only a title</title></head></html>",
    ])
    func noArticle(html: String) throws {
        let article = try stage.parse(page(html))
        #expect(article.text.isEmpty)
        #expect(article.kind != .article)
    }

    @Test("a listing page is kind listing with no text")
    func listing() throws {
        var items = ""
        for i in 0..<40 { items += "<li><a href=\"/news/\(i).html\">Headline number \(i) about the day's events</a></li>" }
        let html = "<html><head><title>News</title></head><body><nav><a href=\"/\">Home</a></nav><ul>\(items)</ul></body></html>"
        let article = try stage.parse(page(html))
        #expect(article.kind == .listing)
        #expect(article.text.isEmpty)
        #expect(article.outlinks.count == 41)
        #expect(article.outlinks.first == "https://example.com/")
    }

    @Test("handle(_:) decodes the envelope, emits one article.parsed, and reports a bad body as INVALID_ARGUMENT")
    func handleEnvelope() async throws {
        let html = try Fixture.text("page.vi.seed-style.html")
        let input = Envelope(type: "page.fetched", body: try RawJSON(encoding: page(html)))
        let emissions = try await stage.handle(input)
        #expect(emissions.count == 1)
        #expect(emissions[0].type == "article.parsed")
        let article = try emissions[0].body.decode(ArticleParsed.self)
        #expect(article.url == "https://example.com/page")
        #expect(article.paragraphs.count == 7)

        let bad = Envelope(type: "page.fetched", body: try RawJSON(#"{"url": 5}"#))
        let outcomes = await stage.handle(batch: [bad, input])
        guard case let .fail(error) = outcomes[0] else {
            Issue.record("a bad body did not fail")
            return
        }
        #expect(error.code == .invalidArgument)
        guard case let .emit(outputs) = outcomes[1] else {
            Issue.record("the stage did not go on after a bad body")
            return
        }
        #expect(outputs.count == 1)
    }

    @Test("the service definition names the stage, its types and its options")
    func service() {
        let service = stage.service
        #expect(service.name == "parse")
        #expect(service.accepts == ["page.fetched"])
        #expect(service.emits == ["article.parsed"])
        #expect(service.options.contains { $0.name == "max_html_bytes" && $0.default == String(16 << 20) })
    }
}
