import Testing

@testable import ParseStage

@Suite("Links resolve to one WHATWG spelling, http(s) only")
struct URLResolverTests {
    @Test(
        "links against https://Báo.example.vn/tin/bai.html",
        arguments: [
            ("./a.html", "https://xn--bo-mia.example.vn/tin/a.html"),
            ("../the-gioi/./b.htm#top", "https://xn--bo-mia.example.vn/the-gioi/b.htm"),
            ("HTTPS://Other.VN:443/%7e/x", "https://other.vn/%7e/x"),
            ("//cdn.example.vn/a b", "https://cdn.example.vn/a%20b"),
            ("  /c?q=1 ", "https://xn--bo-mia.example.vn/c?q=1"),
        ])
    func resolves(href: String, expected: String) {
        #expect(URLResolver(base: "https://Báo.example.vn/tin/bai.html").resolve(href) == expected)
    }

    @Test("links that are not pages are dropped", arguments: ["#top", "", "   ", "javascript:void(0)", "mailto:a@b.vn", "tel:+84", "http://[::1"])
    func dropped(href: String) {
        #expect(URLResolver(base: "https://example.vn/tin/bai.html").resolve(href) == nil)
    }
}
