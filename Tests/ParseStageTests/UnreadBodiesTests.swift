import RunnelProtocol
import Testing

@testable import ParseStage

/// libxml2 is not given the script and style bodies the tree never reads
/// (``MarkupScan/unreadBodies``); the article must be the one parsed from the whole page.
@Suite("Script and style bodies left out of the libxml2 input")
struct UnreadBodiesTests {
    static let paragraphs = (1...4).map {
        "<p>Paragraph \($0) of the article tells what the council decided about the harbour bridge, "
            + "who argued for it, and what the repairs will cost the city over the next two years.</p>"
    }.joined()

    static let pages = [
        // Scripts whose text looks like markup, in any case, and a style.
        """
        <html><head><title>Bridge reopens</title><style>p { color: red } </style>
        <script>document.write("<div><p>not text</p>"); if (a < b) {}</SCRIPT >
        <script type="text/javascript">var s = '</div></body>';</script></head>
        <body><article><h1>Bridge reopens</h1>\(paragraphs)</article>
        <script src="/x.js"></script><script>var x = "<a href='/y'>y</a>";</script></body></html>
        """,
        // JSON-LD, its type spelled plainly and with a character reference: both are read.
        """
        <html><head><script type="application/ld+json">{"@type": "NewsArticle", "author": {"name": "Lan Nguyen"},
        "datePublished": "2026-12-01T08:00:00Z"}</script>
        <script type="application/ld&#x2B;json">{"@type": "NewsArticle", "headline": "Bridge reopens"}</script>
        </head><body><article>\(paragraphs)</article></body></html>
        """,
        // A self-closed script, and one never closed.
        """
        <html><body><script src="/a.js"/><article>\(paragraphs)</article><script>var unclosed = 1;
        """,
        // A title holding markup, which libxml2 2.9 parses and this scan skips: nothing after it is left out.
        """
        <html><head><title>a <!-- b</title><script>--></script><p>Not in the comment? </p>
        </head><body><article>\(paragraphs)</article><script>c()</script></body></html>
        """,
    ]

    func parse(_ html: String, omitting: [Range<Int>]) throws -> ArticleParsed {
        try HTMLArticleParser(configuration: .init()).parse(html: html, url: "https://news.example/bridge", omitting: omitting)
    }

    @Test("the article is the same as from the whole page", arguments: pages.indices)
    func sameArticle(_ index: Int) throws {
        let html = Self.pages[index]
        let omitted = MarkupScan(html).unreadBodies
        #expect(try parse(html, omitting: omitted) == parse(html, omitting: []))
    }

    @Test("script and style bodies are left out, JSON-LD is kept")
    func whatIsLeftOut() {
        let bodies = { (html: String) in MarkupScan(html).unreadBodies.map { String(decoding: Array(html.utf8)[$0], as: UTF8.self) } }
        #expect(bodies(Self.pages[0]).count == 4)
        #expect(bodies(Self.pages[1]).isEmpty)
        #expect(bodies(Self.pages[2]).isEmpty)
        #expect(bodies(Self.pages[3]).isEmpty)
        #expect(bodies("<p>a</p><script>x()</script><style>p{}</style>") == ["x()", "p{}"])
        #expect(bodies("<script src=\"a.js\"/><p>b</p></script><script>c()</script>").isEmpty)
    }
}
