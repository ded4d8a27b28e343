import RunnelProtocol
import Testing

@testable import ParseStage

@Suite("article.parsed bodies")
struct ArticleParsedBodyTests {
    @Test("the hand-written body is byte for byte what RawJSON(encoding:) writes", arguments: [
        ArticleParsed(url: "https://a.example/x"),
        ArticleParsed(
            url: "https://a.example/x?q=1&r=\"2\"", canonicalURL: "https://a.example/x", title: "Tin \"nóng\" / 😀",
            byline: "Minh Anh", publishedAt: "2025-11-13T01:30:00+07:00", updatedAt: "2025-11-13T02:00:00Z",
            description: "line\nbreak\ttab \u{1} control \\ back", siteName: "Báo", lang: "vi",
            paragraphs: ["Đọc nhiều", "second </script> paragraph", "\u{2028}\u{7F}"],
            images: [.init(src: "https://a.example/i.jpg", caption: "cap"), .init(src: "https://a.example/j.jpg")],
            outlinks: ["https://b.example/", "https://c.example/a/b"],
            related: [.init(title: "R1", url: "https://a.example/r1")], kind: .listing, leadImage: "https://a.example/i.jpg"),
    ])
    func sameAsEncoder(article: ArticleParsed) throws {
        #expect(article.jsonBody.bytes == (try RawJSON(encoding: article)).bytes)
        #expect(try article.jsonBody.decode(ArticleParsed.self) == article)
    }
}
