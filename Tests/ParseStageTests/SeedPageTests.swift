import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

/// The page the pipeline exists for, as HTML in its site's style and as the plain text it was seeded from.
@Suite("Seed article")
struct SeedPageTests {
    let seed: Fixture.Seed
    let stage = ParseStage()

    init() throws { seed = try Fixture.Seed() }

    func parseHTML() throws -> ArticleParsed {
        let html = try Fixture.text("page.vi.seed-style.html")
        return try stage.parse(
            PageFetched(url: "https://thoidai.example.vn/quoc-te/nato-218377.html", contentType: "text/html", html: html))
    }

    @Test("HTML: the exact title, without the site name")
    func htmlTitle() throws {
        #expect(try parseHTML().title == seed.title)
    }

    @Test("HTML: the lead and the six body paragraphs, in order, both quotes among them")
    func htmlParagraphs() throws {
        let article = try parseHTML()
        #expect(article.paragraphs == seed.paragraphs)
        #expect(article.text == seed.paragraphs.joined(separator: "\n\n"))
        #expect(article.paragraphs.filter { $0.hasPrefix("“") }.count == 2)
        #expect(article.kind == .article)
    }

    @Test("HTML: the photo caption is an image caption, not text")
    func htmlCaption() throws {
        let article = try parseHTML()
        #expect(!article.text.contains("Trụ sở NATO"))
        #expect(article.images.first?.caption == seed.caption)
        #expect(article.images.first?.src == "https://thoidai.example.vn/stores/news_dataimages/nato-hq.jpg")
    }

    @Test("HTML: no menu, list, share, footer or cookie line in the text")
    func htmlNoBoilerplate() throws {
        let article = try parseHTML()
        for line in seed.listLines { #expect(!article.text.contains(line), "leaked: \(line)") }
        for junk in ["Trang chủ", "Chia sẻ", "Facebook", "cookie", "Quán Thánh", "Minh Anh", "Đọc nhiều"] {
            #expect(!article.text.contains(junk), "leaked: \(junk)")
        }
    }

    @Test("HTML: the three related articles, with absolute links")
    func htmlRelated() throws {
        let article = try parseHTML()
        #expect(article.related.map(\.title) == seed.related)
        #expect(article.related.allSatisfy { $0.url.hasPrefix("https://thoidai.example.vn/") && $0.url.hasSuffix(".html") })
    }

    @Test("HTML: metadata — canonical, site, language, date with Vietnam's zone, byline")
    func htmlMetadata() throws {
        let article = try parseHTML()
        #expect(article.url == "https://thoidai.example.vn/quoc-te/nato-218377.html")
        #expect(article.canonicalURL?.hasPrefix("https://thoidai.example.vn/nga-thong-bao-dinh-chi") == true)
        #expect(article.siteName == "Tạp chí Thời Đại")
        #expect(article.lang == "vi")
        #expect(article.publishedAt == "2025-11-13T08:30:00+07:00")
        #expect(article.byline == "Minh Anh")
        #expect(article.description == seed.paragraphs[0])
        #expect(article.outlinks.contains("https://thoidai.example.vn/quoc-te"))
        #expect(!article.outlinks.contains { $0.hasPrefix("mailto:") })
    }

    @Test("text/plain: title, the seven paragraphs, the caption, the related headlines, no list line")
    func plainText() throws {
        let text = try Fixture.text("page.vi.seed.txt")
        let article = try stage.parse(
            PageFetched(url: "https://thoidai.example.vn/nato.txt", contentType: "text/plain", html: text))
        #expect(article.title == seed.title)
        #expect(article.paragraphs == seed.paragraphs)
        #expect(article.images.map(\.caption) == [seed.caption])
        #expect(!article.text.contains("Trụ sở NATO"))
        #expect(article.related.map(\.title) == seed.related)
        for line in seed.listLines { #expect(!article.text.contains(line), "leaked: \(line)") }
        #expect(article.kind == .article)
    }
}
