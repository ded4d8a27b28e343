import RunnelProtocol
import Testing

@testable import ParseStage

/// Pages that are not articles (landing, service pages) made of many small sections.
@Suite("Landing pages")
struct LandingPageTests {
    @Test("a page not declared an article whose best block is short gives its whole body, without nav and footer")
    func sectionsOfALandingPage() throws {
        let lines = [
            "Talk, play and hang out with the friends you already have, in servers made for your group.",
            "Share your screen in high quality and low latency, as if you were on the same couch.",
            "Hop in and out of voice channels when you are free, without calling anyone first.",
            "Set up roles and permissions so that the right people see the right channels.",
            "Keep every conversation searchable, with threads for the topics that run long.",
        ]
        let hero = [
            "Group chat that is all fun and games, for friends, clubs, classes and worldwide communities alike.",
            "Customize your own space to talk, play and hang out, with custom emoji, stickers, soundboard effects and more.",
            "Set your avatar and a custom status, and write your own profile to show up in chat your way, every day.",
        ]
        var menu = ""
        for i in 0..<20 { menu += "<li><a href=\"/p\(i)\">Product page number \(i)</a></li>" }
        var sections = "<div class=\"hero\"><div class=\"pad\"><div class=\"text\">"
            + hero.map { "<p>\($0)</p>" }.joined() + "</div></div></div>"
        for (i, line) in lines.enumerated() {
            sections += "<div class=\"home-section\"><div class=\"pad\"><div class=\"wrap\"><div class=\"col\"><div class=\"text\">"
                + "<h2>Part \(i)</h2><p>\(line)</p></div></div></div></div></div>"
        }
        let html = """
            <html><head><title>Group chat</title><meta property="og:type" content="website"></head><body><div class="page-wrapper">
            <header class="nav"><ul>\(menu)</ul></header>
            \(sections)
            <div class="footer-new"><a href="/terms">Terms</a> <a href="/privacy">Privacy</a> <a href="/cookies">Cookie settings</a></div>
            </div></body></html>
            """
        let article = try Fixture.parse(html, url: "https://example.com/")
        for line in hero + lines { #expect(article.paragraphs.contains(line)) }
        #expect(!article.text.contains("Product page number"))
        #expect(!article.text.contains("Cookie settings"))
    }
}
