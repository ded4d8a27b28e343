import Testing

@testable import ParseStage

/// A heading classed with "header" (rustdoc's `code-header`, a card's `section-header`) is the title
/// of its section, not the site's header.
@Suite("Headings named header")
struct SectionHeadingTests {
    static let methods = [
        ("pub const fn is_ok(&self) -> bool", "Returns true if the result is Ok, and false when it holds an error value instead."),
        ("pub const fn is_err(&self) -> bool", "Returns true if the result is Err, and false when it holds a success value instead."),
        ("pub fn ok(self) -> Option<T>", "Converts from Result to Option, consuming self, and discarding the error, if any."),
    ]

    @Test("a documentation page keeps each method's signature above its description")
    func codeHeaders() throws {
        let sections = Self.methods.map { signature, description in
            let escaped = signature.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
                .replacingOccurrences(of: ">", with: "&gt;")
            return "<section class=\"method\"><h4 class=\"code-header\">\(escaped)</h4><div class=\"docblock\"><p>\(description)</p></div></section>"
        }.joined()
        let html = """
            <html><head><title>Result in std::result</title></head><body>
            <header class="site-header"><a href="/">Docs</a></header>
            <main><h1>Enum Result</h1><p>Result is a type that represents either success (Ok) or failure (Err), and is used for returning and propagating errors.</p>\(sections)</main>
            </body></html>
            """
        let article = try Fixture.parse(html, url: "https://docs.example/std/result/enum.Result.html")
        for (signature, description) in Self.methods {
            let at = try #require(article.paragraphs.firstIndex(of: signature), "\(article.paragraphs)")
            #expect(article.paragraphs.dropFirst(at + 1).first == description)
        }
        #expect(!article.text.contains("Docs"))
    }
}
