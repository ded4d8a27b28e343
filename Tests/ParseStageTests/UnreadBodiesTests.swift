import RunnelProtocol
import Testing

@testable import ParseStage

/// libxml2 is not given the script and style bodies and the attributes the tree never reads
/// (``MarkupScan/unread``); the article must be the one parsed from the whole page.
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
        // Attributes of every kind: read ones, unread ones, unusual spellings the scan leaves whole.
        """
        <html lang="en" data-theme=dark><head><meta charset="utf-8"><meta property="og:title" content="Bridge reopens" data-rh="true">
        </head><body class="page" data-page-id=7 onload='init("x")'><nav aria-label="Main" data-nav><a href="/" data-track="home">Home</a></nav>
        <article class="story" itemprop="articleBody" data-article-id="9" style="margin:0"><h1 data-x=1>Bridge reopens</h1>
        <figure data-size="l"><img src="/b.jpg" srcset="/b.jpg 1x, /b2.jpg 2x" sizes="100vw" alt="The bridge" loading=lazy></figure>
        \(paragraphs)<div class="share" data-a="1"data-b="2"><a href="/s">Share</a></div></article>
        <footer @click="x" data-f=1>Footer text</footer></body></html>
        """,
    ]

    func parse(_ html: String, omitting: [Range<Int>]) throws -> ArticleParsed {
        try HTMLArticleParser(configuration: .init()).parse(html: html, url: "https://news.example/bridge", omitting: omitting)
    }

    @Test("the article is the same as from the whole page", arguments: pages.indices)
    func sameArticle(_ index: Int) throws {
        let html = Self.pages[index]
        let omitted = MarkupScan(html).unread
        #expect(try parse(html, omitting: omitted) == parse(html, omitting: []))
    }

    @Test("attributes the walk never reads are left out of plainly written tags, the rest kept")
    func unreadAttributes() {
        let left = { (html: String) in MarkupScan(html).unreadAttributes.map { String(decoding: Array(html.utf8)[$0], as: UTF8.self) } }
        #expect(left(#"<div class="a" data-x="1" onclick='f("x")' hidden>t</div>"#) == [#" data-x="1""#, #" onclick='f("x")'"#])
        #expect(left(#"<img src=a.jpg srcset="a 1x, b 2x" Data-Src=c.jpg ALT=x/>"#) == [#" srcset="a 1x, b 2x""#])
        #expect(left(#"<a href = "/x" aria-label = y >x</a>"#) == [" aria-label = y"])
        #expect(left(#"<meta charset=iso-8859-1 itemprop=x>"#).isEmpty)
        // Not plainly written: libxml2 may split these otherwise, so nothing is left out.
        #expect(left(#"<div data-a="1"data-b="2">x</div>"#).isEmpty)
        #expect(left(#"<div @click="go" data-a=1>x</div>"#).isEmpty)
        #expect(left(#"<div data-a=x"y data-b=1>x</div>"#).isEmpty)
        #expect(left("<div data-a=1\u{C}data-b=2>x</div>").isEmpty)
        // End tags, and tags past a point where the scan and libxml2 may disagree, are left whole.
        #expect(left(#"</div data-a=1>"#).isEmpty)
        #expect(left(#"<title><b></title><div data-a=1>x</div>"#).isEmpty)
    }

    @Test("ranges of bodies and attributes come out merged in document order")
    func mergedInOrder() {
        let scan = MarkupScan(#"<div data-a=1><script>x()</script><p data-b=2><style>p{}</style><i data-c=3>"#)
        #expect(scan.unreadBodies.count == 2 && scan.unreadAttributes.count == 3)
        #expect(scan.unread.map(\.lowerBound) == scan.unread.map(\.lowerBound).sorted())
        #expect(scan.unread.count == 5)
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
