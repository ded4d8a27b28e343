import RunnelProtocol
import Testing

@testable import ParseStage

/// Forum threads marked up with schema.org microdata, each post's body an `itemprop=text`: an
/// opening post that lists other threads, in a card with a box of related threads, and short
/// replies in cards of author links and buttons (`page.forum-thread.html`, after a thread of
/// the wcxb set).
@Suite("Forum threads")
struct ForumThreadTests {
    static let url = "https://forum.example.org/t/water-butts"

    @Test("the opening post comes first, though it and its card are mostly links; every reply follows, the short one too")
    func openingPostAndReplies() throws {
        let article = try Fixture.parse(Fixture.text("page.forum-thread.html"), url: Self.url)
        let opening = try #require(article.paragraphs.firstIndex { $0.hasPrefix("We took on a half plot this spring, with a shed") })
        let reply = try #require(article.paragraphs.firstIndex { $0.hasPrefix("Two linked butts, every time.") })
        #expect(opening < reply)
        #expect(article.paragraphs.contains { $0.hasSuffix("or is it worth linking two?") })
        #expect(article.paragraphs.contains("Blocks under it!"))
        #expect(article.text.contains("Sprinkling the leaves at noon mostly waters the air."))
        // Lines that are one link each stay out, in the post and around it.
        #expect(!article.text.contains("Linking two water butts with a kit"))
        #expect(!article.text.contains("Rhubarb forcing pots"))
        #expect(!article.text.contains("Popular threads"))
        #expect(!article.text.contains("All rights reserved"))
    }

    @Test("without the microdata the link-heavy cards are dropped as before: the page's mark is what keeps them")
    func withoutMicrodata() throws {
        let html = try Fixture.text("page.forum-thread.html").replacingOccurrences(of: #"itemprop="text""#, with: "")
        let article = try Fixture.parse(html, url: Self.url)
        #expect(article.text.contains("Two linked butts, every time."))
        #expect(!article.text.contains("We took on a half plot"))
        #expect(!article.paragraphs.contains("Blocks under it!"))
    }
}
