import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

/// The native builder makes the adoption agency's moves where the block is open right inside
/// the formatting element (`<a href=…><div>…</a>`), holding the sink's events since the block
/// started (``HeldEvents``): the trees of these pages must be the browser's (gumbo's), for the
/// html5lib test format and for the walk.
@Suite("The adoption agency, built natively")
struct AdoptionAgencyTests {
    static let pages: [String] = [
        "<p>Before <a href=/x><div>Card text inside a link.</a>after the link, inside the div</div><p>After.",
        "<b>1<p>2</b>3</p>",
        "<a href=/1><div><div>Nested blocks</a>tail</div></div>",
        "<ul><li><a href=/x><ul><li>Item</a>rest</ul></li></ul>",
        "<a href=/x class=card><div><figure><div><div><img src=/i.jpg alt=Picture>Caption</a>more</div></div></figure></div>",
        "<a href=/1><div>One</a>x</div><a href=/2><div><my-widget data-x=1>Two</my-widget><svg><circle r=1></circle></svg></a>y</div>",
        "<a href=/1><div>First<a href=/2>second, ending the first</a></div>",
        "<nobr><div>No break<nobr>again</div>",
        "<font color=red><div>Old<p>nested</font>done</p></div>",
        "<i><div>open to the end",
    ]

    static func tree(_ html: String, _ construction: TreeConstruction) throws -> PageTree {
        try HTMLTreeBuilder.build(html: html, baseURL: "https://news.example/", construction: construction)
    }

    static func summary(_ tree: PageTree) -> [String] {
        tree.elements.map { "\($0.tag) \($0.parent) \($0.textLength) \($0.linkLength) \($0.imageCount)" }
            + tree.blocks.map(\.text) + tree.images.map { "\($0.src) \($0.element)" } + tree.anchors.map { "\($0.url) \($0.text) \($0.element)" }
    }

    @Test("the native tree is the browser's and marks no departure", arguments: pages)
    func nativeTree(_ html: String) {
        let native = TreeBuilder<TestFormatSink>.testFormatUnlessDeparting(html)
        #expect(native != nil, "the builder departs")
        let browser = HTML5ConformanceTests.withoutCommentsAndDoctype(HTML5TreeConstruction.testFormat(html)).tree
        #expect(native == browser)
    }

    @Test("the walk sees what it sees on gumbo's tree", arguments: pages)
    func walk(_ html: String) throws {
        #expect(try Self.summary(Self.tree(html, .automatic)) == Self.summary(Self.tree(html, .html5)))
    }

    @Test("many moves in one page, each card's events held and handed on")
    func manyCards() throws {
        let html = (0..<200).map { "<a href=/\($0)><div class=card-\($0 % 7)><span-\($0 % 5)>Card \($0)</span-\($0 % 5)><img src=/\($0).jpg></a>tail \($0)</div>" }.joined()
        #expect(TreeBuilder<TestFormatSink>.testFormatUnlessDeparting(html) != nil)
        #expect(try Self.summary(Self.tree(html, .automatic)) == Self.summary(Self.tree(html, .html5)))
    }

    /// Not the adoption agency, but the same check: the newline right after `<pre>`, `<listing>` or
    /// `<textarea>` goes only when it is the next token (an empty textarea's end tag is one).
    @Test("a newline after a start tag goes only when it comes right after it", arguments: [
        "<textarea></textarea>\nAfter the empty textarea", "<pre>\nThe first newline goes</pre>",
        "<pre><b>\nkept after a tag</b></pre>", "<textarea>\nThe first newline goes</textarea>",
    ])
    func newlineAfterStartTag(_ html: String) {
        let browser = HTML5ConformanceTests.withoutCommentsAndDoctype(HTML5TreeConstruction.testFormat(html)).tree
        #expect(TreeBuilder<TestFormatSink>.testFormatUnlessDeparting(html) == browser)
    }

    @Test("a block with an inline element between it and the formatting element is left to gumbo")
    func generalCase() {
        #expect(TreeBuilder<TestFormatSink>.testFormatUnlessDeparting("<b><span><p>Bold</b> rest</p>") == nil)
        // In a second step, after the first move: the block is not right inside the new element.
        #expect(TreeBuilder<TestFormatSink>.testFormatUnlessDeparting("<font color=red><div>Old<b><p>nested</font>done</p></div>") == nil)
        // Where the block would move into a table (foster parenting), too.
        #expect(TreeBuilder<TestFormatSink>.testFormatUnlessDeparting("<table><a><tr><td>x</td></tr></a></table>") == nil)
    }
}
