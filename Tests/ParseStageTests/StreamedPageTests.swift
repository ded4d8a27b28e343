import RunnelProtocol
import Testing

@testable import ParseStage

/// Pages rendered by React's streamed server rendering: the layout holds placeholders and the
/// text arrives late, split over hidden `<div id="S:n">` segments at the end of `<body>`.
@Suite("Streamed pages")
struct StreamedPageTests {
    @Test("the streamed segments together are the content, not the placeholder layout beside them")
    func segmentsAreReadTogether() throws {
        let parts = [
            "You do not need to be a stock market expert to be a good investor, and index funds are a big reason why.",
            "An index fund tracks a financial index, such as a broad market index, and holds the stocks in it.",
            "Index funds can put your strategy on autopilot, and they can do this while keeping fees low.",
            "Choose the right fund for your index, comparing fees, minimums and how closely it tracks the index.",
            "Open a brokerage account, decide how much to invest, and buy shares of the fund you have chosen.",
            "Hold the fund for the long run, reinvesting dividends, and let the market do the work for you.",
        ]
        let layout = """
            <main><div class="layout"><template id="B:0"></template><p>Loading paragraph...</p>
            <template id="B:1"></template><p>Loading paragraph...</p>
            <div class="about"><h2>About the Author</h2><p>Jane Doe is a contributing analyst who writes about
            personal finance, retirement and the basics of investing for people new to the market.</p></div></div></main>
            """
        var segments = ""
        for (i, part) in parts.enumerated() {
            segments += "<div hidden id=\"S:\(i)\"><div class=\"prose\"><h2>Step \(i)</h2><p>\(part)</p></div></div>"
        }
        let html = """
            <html><head><title>How to invest in index funds</title></head><body>
            \(layout)\(segments)<script>$RC("B:0","S:0")</script></body></html>
            """
        let article = try Fixture.parse(html, url: "https://example.com/invest")
        for part in parts { #expect(article.paragraphs.contains(part)) }
        #expect(!article.text.contains("Loading paragraph"))
    }

    @Test("a page with one streamed segment is scored as usual")
    func singleSegmentIsScoredAsUsual() throws {
        let prose = (0..<6).map { "Paragraph \($0) of the article, long enough to count as prose, with a comma, and an end." }
        let html = """
            <html><head><title>One segment</title></head><body><nav><a href="/a">Home</a></nav>
            <div hidden id="S:0"><article>\(prose.map { "<p>\($0)</p>" }.joined())</article></div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://example.com/one")
        for line in prose { #expect(article.paragraphs.contains(line)) }
    }
}
