import Testing

@testable import FetchStage

/// robots.txt parsing and matching (RFC 9309), without I/O.
@Suite struct RobotsRulesTests {
    @Test func wildcardGroup() {
        let rules = RobotsRules(parsing: "User-agent: *\nDisallow: /private/\n", token: "runnel")
        #expect(!rules.allows("/private/a.html"))
        #expect(rules.allows("/public/a.html"))
        #expect(rules.allows("/"))
    }

    @Test func specificGroupWinsOverWildcard() {
        let text = """
            User-agent: *
            Disallow: /

            User-agent: Runnel
            Disallow: /tmp/
            """
        let rules = RobotsRules(parsing: text, token: "runnel")
        #expect(rules.allows("/news/a.html"))
        #expect(!rules.allows("/tmp/x"))
        let other = RobotsRules(parsing: text, token: "otherbot")
        #expect(!other.allows("/news/a.html"))
    }

    @Test func longestMatchWinsAndAllowWinsTies() {
        let rules = RobotsRules(
            parsing: "User-agent: *\nDisallow: /a/\nAllow: /a/open/\nDisallow: /b\nAllow: /b\n", token: "runnel")
        #expect(!rules.allows("/a/closed.html"))
        #expect(rules.allows("/a/open/page.html"))
        #expect(rules.allows("/b/x"))
    }

    @Test func wildcardsAndEndAnchors() {
        let rules = RobotsRules(parsing: "User-agent: *\nDisallow: /*.pdf$\nDisallow: /*?print=\n", token: "runnel")
        #expect(!rules.allows("/docs/a.pdf"))
        #expect(rules.allows("/docs/a.pdf.html"))
        #expect(!rules.allows("/a.html?print=1"))
        #expect(rules.allows("/a.html?x=1"))
    }

    @Test func groupsSharingRulesAndComments() {
        let text = "# comment\nUser-agent: a\nUser-agent: runnel # us\nDisallow: /x # no\n\nUser-agent: *\nDisallow:\n"
        let rules = RobotsRules(parsing: text, token: "runnel")
        #expect(!rules.allows("/x/1"))
        #expect(RobotsRules(parsing: text, token: "zzz").allows("/x/1"))
    }

    @Test func agentNamesMatchTheWholeToken() {
        let text = "User-agent: run\nDisallow: /a\n\nUser-agent: Runnel/0.1\nDisallow: /b\n"
        let rules = RobotsRules(parsing: text, token: "runnel")
        #expect(rules.allows("/a"))
        #expect(!rules.allows("/b"))
    }

    @Test func emptyAndMissing() {
        #expect(RobotsRules(parsing: "", token: "runnel").allows("/"))
        #expect(RobotsRules.allowAll.allows("/a"))
        #expect(!RobotsRules.disallowAll.allows("/a"))
    }
}
