import RunnelProtocol
import Testing

@testable import ParseStage

/// A site's copyright line ("© 2025 WABC-TV. All rights reserved.") inside the article's
/// container, or as the only line left on a page whose content scored nothing.
@Suite("Rights notices")
struct RightsNoticeTests {
    static let prose = [
        "The council approved the new cycle lanes on Tuesday, after a debate that ran for more than three hours and drew a full public gallery.",
        "Residents on the eastern side of the river had asked for safer crossings since the bridge was narrowed, and the plan adds two of them.",
        "Work is due to start in the spring, and the council says the lanes will be finished before the end of the school year, weather permitting.",
    ]

    static func page(_ closing: String) -> String {
        let paragraphs = (prose + [closing]).map { "<p>\($0)</p>" }.joined()
        return "<html><head><title>Cycle lanes approved</title></head><body><article>\(paragraphs)</article></body></html>"
    }

    static let url = "https://news.example.com/cycle-lanes"

    @Test(
        "a copyright line at the end of the article is left out, in any case and language",
        arguments: [
            "Copyright © 2025 Example News. All rights reserved.",
            "COPYRIGHT 2012 HEALTHDAY. ALL RIGHTS RESERVED.",
            "™ & © 2013 Cable News Network, Inc. All rights reserved.",
            "© 2024 Beispiel Verlag GmbH. Alle Rechte vorbehalten.",
            "Example® and Example Studio® are registered trademarks of Example LLC © Copyright 1999-2026",
        ])
    func notice(_ line: String) throws {
        let article = try Fixture.parse(Self.page(line), url: Self.url)
        #expect(article.paragraphs == Self.prose)
    }

    @Test(
        "prose about copyright stays: a notice needs both the sign or the word and a rights phrase, in a short line",
        arguments: [
            "The photographer, who owns the copyright, said she had not been asked.",
            "All rights reserved, the sign on the gate said, though nobody could say by whom.",
            "The judge said the © notice on the map, and the words all rights reserved printed under it, did not by themselves settle who owned it; the case turned on who had drawn the map, when, and for whom, and on what the council had paid for in 1974, when the survey office still drew every sheet by hand and kept no record of who held the rights.",
        ])
    func prose(_ line: String) throws {
        let article = try Fixture.parse(Self.page(line), url: Self.url)
        #expect(article.paragraphs.last == line)
    }
    @Test(
        "a block the page names a legal notice is left out, though it has neither © nor a rights phrase",
        arguments: [
            #"<div class="copyright">Reproduction of this material without the publisher's written permission is prohibited.</div>"#,
            #"<div class="legal-notice">Reproduction of this material without the publisher's written permission is prohibited.</div>"#,
            #"<div class="murator_nota_prawna">Żaden utwór zamieszczony w serwisie nie może być powielany i rozpowszechniany bez pisemnej zgody wydawcy.</div>"#,
        ])
    func namedNotice(_ block: String) throws {
        let paragraphs = Self.prose.map { "<p>\($0)</p>" }.joined()
        let html = "<html><head><title>Cycle lanes approved</title></head><body><article>\(paragraphs)\(block)</article></body></html>"
        let article = try Fixture.parse(html, url: Self.url)
        #expect(article.paragraphs == Self.prose)
    }

    @Test("a legal footer longer than the news above it, its lines with © not counted as prose, is not taken for the article")
    func legalFooter() throws {
        let html = try Fixture.text("page.legal-footer.html")
        let article = try Fixture.parse(html, url: "https://nr2.example/kiev/366271.html")
        #expect(article.paragraphs.first?.hasPrefix("Kiev, January 4 (New Region)") == true)
        #expect(article.paragraphs.count == 4)
        #expect(!article.text.contains("News Agency"))
    }

    @Test("a picture's credit with © inside the article does not cost the article its place", arguments: [true, false])
    func creditInArticle(withCredit: Bool) throws {
        let credit = withCredit ? "<figure><img src=\"/a.jpg\"><figcaption>The new crossing, seen from the bridge, in a drawing by the council. © Example City Council, all rights reserved</figcaption></figure>" : ""
        let paragraphs = Self.prose.map { "<p>\($0)</p>" }.joined()
        let html = "<html><head><title>Cycle lanes approved</title></head><body><div class=\"story\">\(credit)\(paragraphs)</div><div class=\"aside\"><p>Short note, beside it.</p></div></body></html>"
        let article = try Fixture.parse(html, url: Self.url)
        #expect(Array(article.paragraphs.suffix(3)) == Self.prose)
    }
}
