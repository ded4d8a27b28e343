import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

/// Where the native tree departs from the browser's, gumbo builds the page, but without the
/// script and style bodies the walk never reads: the tokenizer ends them as a browser does
/// (through the escape states of script data) and collects their ranges while it reads on past
/// the departure. The walk must see the tree gumbo builds from the whole page.
@Suite("gumbo without the unread script bodies")
struct GumboWithoutScriptBodiesTests {
    /// A departure (text directly in a table row, which a browser moves before the table), then
    /// bodies of every kind the tokenizer must end where a browser does.
    static let departing = "<table><tr>Stray text in a row.<td>A cell of the table.</td></tr></table><p>After the table.</p>"

    static let bodies: [(name: String, html: String)] = [
        ("plain script and style", "<script>var a = '<p>not markup</p>';</script><style>p { color: red }</style><p>Visible text.</p>"),
        ("JSON-LD, read by the walk", #"<script type="Application/LD+JSON">{"@type": "NewsArticle", "headline": "Kept"}</script><p>Text.</p>"#),
        ("an escaped script inside a script", "<script><!--<script>document.write('</script>')</script>--></script><p>After the double escape.</p>"),
        ("an end tag that is a longer name", "<script>a = '</scripts>'; b = 1</script ><p>After.</p>"),
        ("upper-case end tag", "<SCRIPT>x()</SCRIPT><p>After upper case.</p>"),
        ("a script in SVG is markup", "<svg><script>var s = 1;</script><text>Drawn</text></svg><p>After the drawing.</p>"),
        ("a script with no end", "<p>Before the open script.</p><script>never closed <p>not text"),
    ]

    static func tree(_ html: String, _ construction: TreeConstruction) throws -> PageTree {
        try HTMLTreeBuilder.build(html: html, baseURL: "https://news.example/", construction: construction)
    }

    /// What the walk keeps of a tree, to compare two: the elements and their places, the blocks'
    /// text, the JSON-LD scripts.
    static func summary(_ tree: PageTree) -> [String] {
        tree.elements.map { "\($0.tag) \($0.parent) \($0.textLength) \($0.linkLength)" }
            + tree.blocks.map(\.text) + tree.jsonLD
    }

    @Test("the walk sees the tree gumbo builds from the whole page", arguments: bodies.map(\.name))
    func sameTree(_ name: String) throws {
        let body = try #require(Self.bodies.first { $0.name == name }).html
        for html in [Self.departing + body, body + Self.departing] {
            let automatic = try Self.tree(html, .automatic)
            let gumbo = try Self.tree(html, .html5)
            #expect(Self.summary(automatic) == Self.summary(gumbo), "\(html)")
            #expect(!automatic.blocks.isEmpty)
        }
    }

    @Test("the tokenizer collects the bodies the walk never reads, ended as a browser ends them")
    func collectedBodies() {
        let html = "<script>a()</script><script type=application/ld+json>{}</script><style>b{}</style>"
            + "<script><!--<script>c</script>--></script><svg><script>d</script></svg><script>e</scripts></script >"
        let bytes = Array(html.utf8)
        let bodies = bytes.withUnsafeBufferPointer { page in
            var builder = TreeBuilder(sink: Walker(baseURL: "https://news.example/"), onDeparture: .mute)
            var bodies: [Range<Int>] = []
            _ = HTMLTokenizer.run(page, into: &builder, limits: .none, unreadBodies: &bodies)
            return bodies.map { String(decoding: bytes[$0], as: UTF8.self) }
        }
        #expect(bodies == ["a()", "b{}", "<!--<script>c</script>-->", "e</scripts>"])
    }

    @Test("a departing page goes on being read after the departure, its sink muted")
    func mutedAfterDeparture() throws {
        let html = Self.departing + "<script>late()</script><p>Text after the departure.</p>"
        let bytes = Array(html.utf8)
        try bytes.withUnsafeBufferPointer { page in
            var builder = TreeBuilder(sink: Walker(baseURL: "https://news.example/"), onDeparture: .mute)
            var bodies: [Range<Int>] = []
            _ = HTMLTokenizer.run(page, into: &builder, limits: .none, unreadBodies: &bodies)
            #expect(builder.departure == .fosterParenting)
            #expect(bodies.map { String(decoding: bytes[$0], as: UTF8.self) } == ["late()"])
            var walker = builder.finished()
            walker.finish()
            // The walk saw nothing past the departure.
            #expect(!walker.tree.blocks.map(\.text).joined().contains("Text after the departure"))
            let automatic = try Self.tree(html, .automatic)
            #expect(automatic.blocks.map(\.text).joined(separator: " ").contains("Text after the departure."))
        }
    }
}
