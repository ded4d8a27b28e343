import Testing

@testable import ParseStage

/// ``ContentExtractor/promoteToCommonAncestor(_:scores:touched:)`` takes the element around an
/// article split into parts, and is not misled by the best part's own wrappers.
@Suite("Promotion to a common ancestor")
struct CommonAncestorTests {
    static let prose = "<p>Researchers in London followed the mental abilities of more than seven thousand civil servants for ten years.</p>"

    /// The index of the first element of `tree` that `match` picks.
    static func first(_ tree: PageTree, _ match: (PageTree.Element) -> Bool) throws -> Int32 {
        try #require(tree.elements.firstIndex(where: match).map(Int32.init))
    }

    static func promote(_ tree: PageTree, best: Int32, scores given: [Int32: Double]) -> Int32 {
        var scores = [Double](repeating: 0, count: tree.elements.count)
        var touched = [Bool](repeating: false, count: tree.elements.count)
        for (index, score) in given {
            scores[Int(index)] = score
            touched[Int(index)] = true
        }
        return ContentExtractor(tree: tree, title: "").promoteToCommonAncestor(best, scores: scores, touched: touched)
    }

    @Test("two strong wrappers of the best part (a results box left open around the article) do not move it up")
    func wrappersOnly() throws {
        let html = "<html><body><main><section><h3>Results</h3><p>Volleyball, women's league</p><article><h1>Memory</h1><div>\(Self.prose)</div></article></section></main></body></html>"
        let tree = try HTMLTreeBuilder.build(html: html, baseURL: "https://news.example/")
        let best = try Self.first(tree) { $0.tag == .div }
        let article = try Self.first(tree) { $0.tag == .article }
        let section = try Self.first(tree) { $0.tag == .section }
        #expect(Self.promote(tree, best: best, scores: [best: 27, article: 23, section: 21]) == best)
    }

    @Test("a second part beside the best one, with a wrapper of the best one, moves it up to the element that holds both")
    func partBeside() throws {
        let html = "<html><body><section><article><div>\(Self.prose)</div><aside>\(Self.prose)</aside></article></section></body></html>"
        let tree = try HTMLTreeBuilder.build(html: html, baseURL: "https://news.example/")
        let best = try Self.first(tree) { $0.tag == .div }
        let article = try Self.first(tree) { $0.tag == .article }
        let aside = try Self.first(tree) { $0.tag == .aside }
        let section = try Self.first(tree) { $0.tag == .section }
        #expect(Self.promote(tree, best: best, scores: [best: 27, article: 23, aside: 21]) == section)
    }
}

/// ``ContentExtractor/votes(_:)``: which blocks add to their containers' scores.
@Suite("Blocks that vote")
struct VotingBlockTests {
    static func block(_ text: String, _ kind: PageTree.BlockKind, links: Int32 = 0) -> PageTree.Block {
        PageTree.Block(text: text, length: Int32(text.unicodeScalars.count), linkLength: links, element: 0, kind: kind)
    }

    @Test("prose votes; in a table, only a cell that is a sentence or a long run of text", arguments: [
        ("Doctors of the World begin free vaccinations for children in Athens.", PageTree.BlockKind.paragraph, true),
        ("Doctors of the World begin free vaccinations for children in Athens.", .tableCell, true),
        (String(repeating: "Team A won at home and Team B drew away ", count: 3), .tableCell, true),
        ("Volleyball. Women's national league, division A 2012/13", .tableCell, false),
        ("Volleyball. Women's national league, division A 2012/13", .paragraph, true),
        ("Short line of text here", .paragraph, false),
        ("Free vaccinations for children begin in Athens", .heading, false),
        ("© 2012 Example News. Reproduction without permission is prohibited.", .paragraph, false),
    ])
    func votes(text: String, kind: PageTree.BlockKind, votes: Bool) {
        #expect(ContentExtractor.votes(Self.block(text, kind)) == votes)
    }

    @Test("a line that is mostly a link does not vote")
    func link() {
        let text = "Doctors of the World begin free vaccinations for children in Athens."
        #expect(!ContentExtractor.votes(Self.block(text, .paragraph, links: Int32(text.unicodeScalars.count))))
    }
}
