import Testing

@testable import ParseStage

/// Text inside `<pre>` keeps its line breaks and indentation; elsewhere whitespace collapses.
@Suite("Preformatted text")
struct PreformattedTextTests {
    @Test("a code block keeps its lines and their indentation, its carriage returns dropped; the prose around it is collapsed as before")
    func codeBlock() throws {
        let code = "let x: Result<u32, &str> = Ok(2);\r\nif x.is_ok() {\r\n    println!(\"two\");\r\n}"
        let escaped = code.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;")
        let html = """
            <html><head><title>Results in Rust</title></head><body><article>
            <p>A result   holds either a value
            or an error, and the compiler makes you look at both before you use it.</p>
            <pre>
            <code><span class="kw">\(escaped)</span></code>
            </pre>
            <p>Matching on it is the usual way to handle both cases, and the methods below are shortcuts for the common ones.</p>
            </article></body></html>
            """
        let article = try Fixture.parse(html, url: "https://blog.example/results")
        #expect(article.paragraphs.count == 3, "\(article.paragraphs)")
        #expect(article.paragraphs.first == "A result holds either a value or an error, and the compiler makes you look at both before you use it.")
        #expect(article.paragraphs.dropFirst().first == code.replacingOccurrences(of: "\r", with: ""))
    }
}
