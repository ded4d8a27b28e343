import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

/// The tree a page is built into is the browser's: small named fixtures
/// (`Fixtures/tree.CASE.html`), each with the browser's tree in the html5lib-tests format
/// (`tree.CASE.tree`), and a whole page whose header leaves `<div>`s open inside a `<button>`.
@Suite("Tree construction")
struct TreeConstructionTests {
    @Test(
        "the tree is the browser's",
        arguments: [
            "p-closed-by-div", "p-inside-button", "button-unclosed-divs", "table-foster-parented-text",
            "table-cell-closes-row", "nested-formatting-adoption", "misnested-anchors", "list-items-close",
        ])
    func browserTree(_ name: String) throws {
        let html = try Fixture.text("tree.\(name).html")
        let expected = try Fixture.text("tree.\(name).tree").trimmingCharacters(in: .newlines)
        #expect(HTML5TreeConstruction.testFormat(html) == expected)
    }

    func article(_ construction: TreeConstruction) throws -> ArticleParsed {
        let html = try Fixture.text("page.button-unclosed-divs.html")
        let stage = ParseStage(configuration: .init(treeConstruction: construction))
        return try stage.parse(PageFetched(url: "https://news.example/bridge", contentType: "text/html", html: html))
    }

    @Test("a header whose button leaves divs open still gives the article's text")
    func buttonUnclosedDivs() throws {
        let article = try article(.html5)
        #expect(article.title == "Harbour bridge reopens after two years of repairs")
        #expect(article.paragraphs.count == 4)
        #expect(article.paragraphs.first?.hasPrefix("The old harbour bridge reopened") == true)
        #expect(article.paragraphs.last?.hasPrefix("Engineers will keep monitoring") == true)
        #expect(!article.text.contains("All rights reserved"))
    }

    @Test("the default builder sees the unclosed divs and builds the browser's tree: the article is kept")
    func automaticKeepsArticle() throws {
        #expect(ParseStage.Configuration().treeConstruction == .automatic || getenv("RUNNEL_PARSE_TREE") != nil)
        let article = try article(.automatic)
        #expect(article.paragraphs.count == 4)
        #expect(article.paragraphs.first?.hasPrefix("The old harbour bridge reopened") == true)
    }

    @Test(
        "the native builder says where the walk's tree would depart from the browser's (the adoption agency, foster parenting, a form's end tag, a frameset), and nothing else",
        arguments: [
            // A block's end tag closes what is open inside it: no node moves.
            ("<header><button><div><div>Menu</button></header><p>Text</p>", false),
            ("<ul><li><div>One</li><li>Two</li></ul>", false),
            ("<section><div>Closed</div></section>", false),
            ("<span><div>Inline end tags close nothing special</span>", false),
            ("<div><p>A paragraph left open</div>", false),
            ("<p><a href=/x>link</p>more</a>", false),
            // The adoption agency with a block open right inside the formatting element: the
            // builder moves the block itself.
            ("<b><p>Bold paragraph</b> and the rest</p>", false),
            ("<font><div>Old news site</font></div>", false),
            ("<a name=top/><div id=root><a href=/x>Home</a><p>The page</p></div>", false),
            // With an inline element between the two: left to gumbo.
            ("<b><span><p>Bold paragraph</b> and the rest</p>", true),
            ("<a href=/x><div>A card</div></a>", false),
            ("<p><b>Bold</b> then <i>italic</i></p>", false),
            // Foster parenting: text or a foreign element directly inside a table part.
            ("<table><p>Moved before the table</p><tr><td>cell</td></tr></table>", true),
            ("<table><tr>stray text<td>cell</td></tr></table>", true),
            ("<table><tr><td>cell</td>&nbsp;</tr></table>", true),
            ("<table>\n <tbody>\n <tr>\n <td>cell</td>\n </tr>\n </tbody>\n</table>", false),
            ("<table><caption>Cap</caption><colgroup><col></colgroup><tr><th>h</th></tr><!-- c --><script>x</script></table>", false),
            ("<table><tr><td><p>In a cell, anything goes</p><div>x</div></td></tr></table>", false),
            // A form's end tag with an element still open inside the form.
            ("<form><div>Search</form><p>after</p>", true),
            ("<form><input name=q></form>", false),
            // Built as a browser builds them, for the walk.
            ("<head><template><div>Card</div></template><title>T</title></head><p>Text</p>", false),
            ("<head></head>\n<script>x</script><meta name=a content=b><body class=home><p>Text</p>", false),
            ("<p>Text</p><body class=home><html lang=en>", false),
            ("<select><option>A<option>B<div>C</div></select><p>Text</p>", false),
            ("<script><!--<script>document.write('</script>')</script>--></script><p>Text</p>", false),
            ("<table><form></table><form><p>Text</p></form>", false),
            // Left to gumbo.
            ("<frameset><frame src=a></frameset>", true),
            ("<select><template><option>A</template></select>", true),
        ])
    func nativeBuilderSeesMovedNodes(_ html: String, _ moves: Bool) {
        var bytes = Array(html.utf8)
        let builder = bytes.withUnsafeMutableBufferPointer { buffer in
            var builder = TreeBuilder(sink: Walker(baseURL: "https://news.example/"))
            HTMLTokenizer.run(UnsafeBufferPointer(buffer), into: &builder)
            return builder
        }
        #expect(builder.departs == moves)
    }

    @Test("nothing inside a template is the page's text, and a template in the head leaves the head open")
    func templateContent() throws {
        let tree = try HTMLTreeBuilder.build(
            html: "<head><template><div>Card template text</div></template><title>Title</title></head><body><p>Article text, long enough.</p></body>",
            baseURL: "https://news.example/", construction: .native)
        #expect(tree.blocks.map(\.text) == ["Article text, long enough."])
    }

    @Test("a <font> with a size leaves SVG, whatever its other attributes: its text is the page's")
    func fontLeavesSVG() throws {
        for attributes in ["size=2", "size=2 type=x", "type=hidden color=red"] {
            let tree = try HTMLTreeBuilder.build(
                html: "<p>Start.</p><svg><font \(attributes)>Text that left the drawing.</font></svg>",
                baseURL: "https://news.example/", construction: .native)
            #expect(tree.blocks.map(\.text).joined(separator: " ").contains("Text that left the drawing."), "\(attributes)")
        }
    }

    @Test("a second <html>'s lang counts where the first has none, as a browser adds it")
    func secondHTMLLang() throws {
        let tree = try HTMLTreeBuilder.build(
            html: "<meta charset=utf-8><html lang=vi><p>Bài báo</p>", baseURL: "https://news.example/", construction: .native)
        #expect(tree.htmlLang == "vi")
    }

    @Test("the same page through the libxml2 builder loses the article: the case the HTML5 tree fixes")
    func libxml2SwallowsArticle() throws {
        let article = try article(.libxml2)
        #expect(!article.text.contains("The old harbour bridge reopened"))
    }

    @Test("text, links and images of a table's misplaced content are kept (foster parenting)")
    func fosterParentedText() throws {
        let tree = try HTMLTreeBuilder.build(
            html: "<div><table><p>Lost paragraph of the article, long enough.</p><tr><td>cell</td></tr></table></div>",
            baseURL: "https://news.example/", construction: .html5)
        #expect(tree.blocks.map(\.text) == ["Lost paragraph of the article, long enough.", "cell"])
    }
}
