import Foundation
import Testing

@testable import ParseStage

/// The native tokenizer and tree builder (``TreeConstruction/native``: ``HTMLTokenizer``,
/// ``TreeBuilder``), written in the html5lib-tests format by ``TestFormatSink``: the tree
/// fixtures `Fixtures/tree.CASE.html` (the browser's tree in `tree.CASE.tree`), and small cases
/// of the tokenizer and the builder with trees written by hand from the spec. The native
/// tokenizer drops comments and doctypes, so the expected trees have none.
@Suite("Native tree construction")
struct NativeTreeConstructionTests {
    static func native(_ html: String) -> String {
        TreeBuilder<TestFormatSink>.testFormat(html)
    }

    /// The fixture's tree, without comments and doctype (see
    /// ``HTML5ConformanceTests/withoutCommentsAndDoctype(_:)``).
    static func expectedTree(_ name: String) throws -> String {
        let tree = try Fixture.text("tree.\(name).tree").trimmingCharacters(in: .newlines)
        return HTML5ConformanceTests.withoutCommentsAndDoctype(tree).tree
    }

    /// The fixtures whose tree the native builder builds.
    static let matchingFixtures = [
        "p-closed-by-div", "p-inside-button", "button-unclosed-divs", "table-cell-closes-row", "misnested-anchors",
        "list-items-close", "nested-formatting-adoption",
    ]

    /// The fixtures that take a path the builder leaves out (``TreeBuilder``: it cannot move the
    /// nodes it has handed out): foster parenting (`<table>foo<tr>…`). (The adoption agency with
    /// a block right inside the formatting element, `<b>1<p>2</b>3</p>`, it builds.)
    static let departingFixtures = ["table-foster-parented-text"]

    @Test("every tree fixture is in one of the two lists")
    func fixturesCovered() throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: Fixture.directory.path)
            .filter { $0.hasPrefix("tree.") && $0.hasSuffix(".html") }
            .map { String($0.dropFirst("tree.".count).dropLast(".html".count)) }
        #expect(Set(names) == Set(Self.matchingFixtures + Self.departingFixtures))
    }

    @Test("the native tree of a fixture is the browser's", arguments: matchingFixtures)
    func fixtureTree(_ name: String) throws {
        let html = try Fixture.text("tree.\(name).html")
        let expected = try Self.expectedTree(name)
        #expect(Self.native(html) == expected)
    }

    /// Whether the native builder, given `html`, says its tree departs from the browser's
    /// (``TreeBuilder/departure``): the pages ``TreeConstruction/automatic`` gives to gumbo.
    static func departs(_ html: String) -> Bool {
        let bytes = Array(html.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            var builder = TreeBuilder(sink: TestFormatSink())
            HTMLTokenizer.run(buffer, into: &builder, allAttributes: true)
            return builder.departs
        }
    }

    /// The builder's documented departures are pages the default (``TreeConstruction/automatic``)
    /// gives to gumbo: the builder marks them (``TreeBuilder/departure``).
    @Test("a fixture whose native tree departs from the browser's is one the builder marks for gumbo", arguments: departingFixtures)
    func departingFixture(_ name: String) throws {
        let html = try Fixture.text("tree.\(name).html")
        let expected = try Self.expectedTree(name)
        // If this fails, the builder now builds the tree: move the fixture to `matchingFixtures`.
        #expect(Self.native(html) != expected)
        #expect(Self.departs(html))
    }

    @Test("a fixture whose native tree is the browser's is not marked for gumbo", arguments: matchingFixtures)
    func matchingFixtureNotMarked(_ name: String) throws {
        #expect(!Self.departs(try Fixture.text("tree.\(name).html")))
    }

    // MARK: Small cases

    /// One case: its name, the document, and the expected tree (lines joined by newlines).
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var html: String
        var tree: [String]
        /// Where the builder is known to depart from the spec on this case, why: the case is run
        /// as a known issue, and fails once the builder gets it right (then drop the mark).
        var knownIssue: String? = nil
        var testDescription: String { name }
    }

    /// `| <html>`, `<head>`, `<body>`, then `body` indented under `<body>`.
    static func inBody(_ body: [String]) -> [String] {
        ["| <html>", "|   <head>", "|   <body>"] + body.map { "|     " + $0 }
    }

    static let cases: [Case] = [
        Case(name: "empty comments <!--> and <!---> end at once: the text after them is text",
             html: "a<!-->b<!--->c", tree: inBody(["\"abc\""])),
        Case(name: "<!— fake —> is a bogus comment, not text",
             html: "<p>a<!— fake —>b</p>", tree: inBody(["<p>", "  \"ab\""])),
        Case(name: "</br> is a <br>",
             html: "<p>a</br>b</p>", tree: inBody(["<p>", "  \"a\"", "  <br>", "  \"b\""])),
        Case(name: "</p> with no <p> open is an empty <p>",
             html: "<div></p>x</div>", tree: inBody(["<div>", "  <p>", "  \"x\""])),
        Case(name: "an <a> closed by </p> is reopened around what follows, with its attributes",
             html: "<p><a href=x>link</p>more",
             tree: inBody(["<p>", "  <a>", "    href=\"x\"", "    \"link\"", "<a>", "  href=\"x\"", "  \"more\""])),
        Case(name: "a script ends at the first </script followed by a byte that ends a name",
             html: "<script>if (a<b) x = \"</scr\" + \"ipt>\";</script>x",
             tree: ["| <html>", "|   <head>", "|     <script>", "|       \"if (a<b) x = \"</scr\" + \"ipt>\";\"", "|   <body>", "|     \"x\""]),
        Case(name: "</scripty> does not end a script; </script > does",
             html: "<script>a</scripty>b</script >c",
             tree: ["| <html>", "|   <head>", "|     <script>", "|       \"a</scripty>b\"", "|   <body>", "|     \"c\""]),
        Case(name: "a style's text is text, its references not decoded",
             html: "<style>p > a::after { content: '&amp;' }</style>x",
             tree: ["| <html>", "|   <head>", "|     <style>", "|       \"p > a::after { content: '&amp;' }\"", "|   <body>", "|     \"x\""]),
        Case(name: "a title's character references are decoded",
             html: "<title>a &amp; b</title>x",
             tree: ["| <html>", "|   <head>", "|     <title>", "|       \"a & b\"", "|   <body>", "|     \"x\""]),
        Case(name: "a document that ends in the head still has its implied body",
             html: "<title>a &amp; b</title>",
             tree: ["| <html>", "|   <head>", "|     <title>", "|       \"a & b\"", "|   <body>"]),
        Case(name: "of two attributes of one name the first is kept, its name in lower case",
             html: "<div CLASS=a class=b>x</div>", tree: inBody(["<div>", "  class=\"a\"", "  \"x\""])),
        Case(name: "a cell in a table without tbody or tr implies both",
             html: "<table><tr><td>x",
             tree: inBody(["<table>", "  <tbody>", "    <tr>", "      <td>", "        \"x\""])),
        Case(name: "a list item closes the one open before it",
             html: "<ul><li>a<li>b</ul>", tree: inBody(["<ul>", "  <li>", "    \"a\"", "  <li>", "    \"b\""])),
        Case(name: "SVG elements, self-closed or not, then HTML after </svg>",
             html: "<svg><path/><circle></circle></svg><p>after",
             tree: inBody(["<svg svg>", "  <svg path>", "  <svg circle>", "<p>", "  \"after\""])),
        Case(name: "a <p> inside SVG breaks out of it",
             html: "<svg><g><p>out</svg>", tree: inBody(["<svg svg>", "  <svg g>", "<p>", "  \"out\""])),
        Case(name: "MathML elements, and HTML text in <mi>",
             html: "<math><mi>x</mi></math>", tree: inBody(["<math math>", "  <math mi>", "    \"x\""])),
        Case(name: "a textarea's markup is text",
             html: "<textarea><b>not a tag</b></textarea>",
             tree: inBody(["<textarea>", "  \"<b>not a tag</b>\""])),
        Case(name: "in an attribute, &copy before = stays as it is; &amp; is decoded",
             html: "<a href=\"?a=1&amp;b=2&copy=3\">x</a>",
             tree: inBody(["<a>", "  href=\"?a=1&b=2&copy=3\"", "  \"x\""])),
        Case(name: "in text, &copy without a semicolon is decoded",
             html: "<p>&copy=3</p>", tree: inBody(["<p>", "  \"©=3\""])),
        Case(name: "a tag cut off by the end of the document is dropped",
             html: "<p>text<span class=\"x", tree: inBody(["<p>", "  \"text\""])),
        Case(name: "an end tag cut off by the end of the document is dropped",
             html: "<p>text</p", tree: inBody(["<p>", "  \"text\""])),
        Case(name: "a document of text only has the implied html, head and body",
             html: "hello", tree: inBody(["\"hello\""])),
        Case(name: "an empty document is html, head and body", html: "", tree: inBody([])),
        Case(name: "a doctype and whitespace before <html> leave nothing",
             html: "<!DOCTYPE html>\n<html><head></head><body>x</body></html>", tree: inBody(["\"x\""])),
        Case(name: "a lone < at the end, and < before a non-letter, are text",
             html: "<p>a < b <", tree: inBody(["<p>", "  \"a < b <\""])),
        Case(name: "a template's children are its content",
             html: "<template><p>x</p></template>",
             tree: ["| <html>", "|   <head>", "|     <template>", "|       content", "|         <p>", "|           \"x\"", "|   <body>"]),
        Case(name: "a newline right after <pre> is dropped",
             html: "<pre>\nx</pre>", tree: inBody(["<pre>", "  \"x\""])),
        Case(name: "a newline right after <textarea> is dropped, and the one after that kept",
             html: "<textarea>\n\nx</textarea>", tree: inBody(["<textarea>", "  \"\nx\""])),
        Case(name: "</script at the end of the document is the script's text",
             html: "<script>a</script", tree: ["| <html>", "|   <head>", "|     <script>", "|       \"a</script\"", "|   <body>"]),
        Case(name: "an <a> closed by </p> is reopened in a <plaintext>",
             html: "<p><a>x<plaintext>b", tree: inBody(["<p>", "  <a>", "    \"x\"", "<plaintext>", "  <a>", "    \"b\""])),
        Case(name: "a <font> without color, face or size stays in SVG",
             html: "<svg><font></font></svg>", tree: inBody(["<svg svg>", "  <svg font>"])),
        Case(name: "in a <select>, an <option> closes the one open, and other tags are left out",
             html: "<select><option>a<option>b<div>c</div></select>",
             tree: inBody(["<select>", "  <option>", "    \"a\"", "  <option>", "    \"bc\""])),
        Case(name: "an <input> ends the <select> it is in",
             html: "<select><option>a<input>x", tree: inBody(["<select>", "  <option>", "    \"a\"", "<input>", "\"x\""])),
        Case(name: "without a doctype (quirks mode) a <table> goes inside the open <p>",
             html: "<p><table></table>", tree: inBody(["<p>", "  <table>"])),
        Case(name: "with <!DOCTYPE html> a <table> closes the open <p>",
             html: "<!DOCTYPE html><p><table></table>", tree: inBody(["<p>", "<table>"])),
        Case(name: "an HTML 4.01 Transitional doctype without a system identifier is quirks mode",
             html: "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\"><p><table></table>",
             tree: inBody(["<p>", "  <table>"])),
        Case(name: "with a system identifier it is not",
             html: "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01 Transitional//EN\" \"http://www.w3.org/TR/html4/loose.dtd\"><p><table></table>",
             tree: inBody(["<p>", "<table>"])),
        Case(name: "a doctype after the first tag sets nothing",
             html: "<p><!DOCTYPE html><p><table></table>", tree: inBody(["<p>", "<p>", "  <table>"])),
        Case(name: "a </script> inside <!--<script> … --> in a script does not end it",
             html: "<script><!--<script></script>x--></script>y",
             tree: ["| <html>", "|   <head>", "|     <script>", "|       \"<!--<script></script>x-->\"", "|   <body>", "|     \"y\""]),
        Case(name: "<!-- in a script without <script> after it leaves the first </script> the end",
             html: "<script><!-- a </script>b",
             tree: ["| <html>", "|   <head>", "|     <script>", "|       \"<!-- a \"", "|   <body>", "|     \"b\""]),
        Case(name: "a CDATA section in SVG is text",
             html: "<svg><![CDATA[a<b]]></svg>", tree: inBody(["<svg svg>", "  \"a<b\""])),
        Case(name: "a CDATA section in HTML is a bogus comment",
             html: "<p><![CDATA[a]]>b</p>", tree: inBody(["<p>", "  \"b\""])),
        Case(name: "head content after </head> goes into the head, the whitespace after it",
             html: "<head></head> <meta>x",
             tree: ["| <html>", "|   <head>", "|     <meta>", "|   \" \"", "|   <body>", "|     \"x\""]),
        Case(name: "a second <body>'s attributes go to the first, which keeps its own",
             html: "<body a=1><body b=2 a=3>", tree: ["| <html>", "|   <head>", "|   <body>", "|     a=\"1\"", "|     b=\"2\""]),
        Case(name: "</p> in SVG leaves it",
             html: "<svg></p><foo>", tree: inBody(["<svg svg>", "<p>", "<foo>"])),
        Case(name: "a <form> in a table sets the form pointer: a later <form> is left out",
             html: "<table><form></table><form>x", tree: inBody(["<table>", "  <form>", "\"x\""])),
        Case(name: "a <font> with a size leaves SVG",
             html: "<svg><font size=2>x</font></svg>", tree: inBody(["<svg svg>", "<font>", "  size=\"2\"", "  \"x\""])),
    ]

    @Test("a small document's native tree is the one the spec gives", arguments: cases)
    func smallCase(_ test: Case) {
        if let issue = test.knownIssue {
            withKnownIssue(Comment(rawValue: issue)) {
                #expect(Self.native(test.html) == test.tree.joined(separator: "\n"))
            }
        } else {
            #expect(Self.native(test.html) == test.tree.joined(separator: "\n"))
        }
    }

    // MARK: The test format

    @Test("the expected tree without comments or doctype: text split by a comment is one node")
    func withoutComments() {
        let expected = """
            | <!DOCTYPE html>
            | <!-- before -->
            | <html>
            |   <head>
            |   <body>
            |     "a"
            |     <!-- two
            lines -->
            |     "b
            c"
            |     <p>
            """
        let (tree, merged) = HTML5ConformanceTests.withoutCommentsAndDoctype(expected)
        #expect(merged)
        #expect(tree == "| <html>\n|   <head>\n|   <body>\n|     \"ab\nc\"\n|     <p>")
    }

    @Test("attributes are sorted by name, and SVG names get the DOM's case")
    func attributeOrderAndForeignNames() {
        #expect(
            Self.native("<p data-b=2 data=1 a-b=3 a=4>") == inBody(["<p>", "  a=\"4\"", "  a-b=\"3\"", "  data=\"1\"", "  data-b=\"2\""]).joined(separator: "\n"))
        #expect(
            Self.native("<svg viewbox='0 0 1 1' xlink:href=#x><foreignObject><b>x</b></foreignObject></svg>")
                == Self.inBody([
                    "<svg svg>", "  viewBox=\"0 0 1 1\"", "  xlink href=\"#x\"", "  <svg foreignObject>", "    <b>", "      \"x\"",
                ]).joined(separator: "\n"))
    }

    func inBody(_ body: [String]) -> [String] { Self.inBody(body) }
}
