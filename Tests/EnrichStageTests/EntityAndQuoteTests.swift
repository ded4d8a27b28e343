import RunnelProtocol
import Testing

@testable import EnrichStage

/// Entities and quotations beyond the seed: English patterns, pronouns, attributions before
/// the quotation, sentence starts.
@Suite struct EntityAndQuoteTests {
    func enrich(_ text: String, title: String = "") -> ArticleEnriched {
        Enricher().enrich(ArticleParsed(url: "https://example.com/", title: title, paragraphs: ArticleParsed.split(text)))
    }

    func kinds(_ enriched: ArticleEnriched) -> [String: String] {
        Dictionary(enriched.entities.map { ($0.text, $0.kind) }, uniquingKeysWith: { a, _ in a })
    }

    @Test func englishSample() throws {
        let enriched = Enricher().enrich(try Fixture.article("article.en.nato-mission.txt"))
        let kinds = kinds(enriched)
        #expect(kinds["NATO"] == "organization")
        #expect(kinds["Jens Stoltenberg"] == "person")
        #expect(kinds["Sergei Lavrov"] == "person")
        #expect(kinds["Moscow"] == "place")
        #expect(kinds["Brussels"] == "place")
        #expect(kinds["Russian Foreign Ministry"] == "organization")
        // "Stoltenberg told…" and "Lavrov said" count for the full names.
        #expect(enriched.entities.first { $0.text == "Jens Stoltenberg" }?.count == 2)
        #expect(kinds["Monday"] == nil && kinds["The"] == nil && kinds["Relations"] == nil)
        #expect(enriched.quotes.map(\.speaker) == ["Jens Stoltenberg", "Sergei Lavrov"])
        #expect(enriched.quotes.first?.text == "We regret Moscow's decision to close its mission. Our door remains open for dialogue")
    }

    @Test func englishSaidInversionAndPronoun() {
        let enriched = enrich("""
            Prime Minister Jacinda Ardern visited Wellington on Tuesday.

            "We will rebuild every home that was lost in the floods," said Prime Minister Jacinda Ardern.

            "It will take time, but we will not leave anyone behind," she said.
            """)
        #expect(enriched.quotes.count == 2)
        #expect(enriched.quotes.map(\.speaker) == ["Jacinda Ardern", "Jacinda Ardern"])
        #expect(kinds(enriched)["Jacinda Ardern"] == "person")
        #expect(kinds(enriched)["Tuesday"] == nil)
    }

    @Test func vietnameseAttributionBeforeTheQuotation() {
        let enriched = enrich("""
            Ông Nguyễn Ngọc Cảnh được bầu làm Chủ tịch Hội Hữu nghị Việt Nam - Anh khóa V.

            Phát biểu tại đại hội, ông Cảnh nói: “Chúng tôi sẽ tiếp tục vun đắp tình hữu nghị giữa hai dân tộc.”

            Theo Bộ Ngoại giao, “quan hệ hai nước đang phát triển tốt đẹp trên nhiều lĩnh vực”.
            """)
        let kinds = kinds(enriched)
        #expect(kinds["Nguyễn Ngọc Cảnh"] == "person")
        #expect(kinds["Bộ Ngoại giao"] == "organization")
        #expect(kinds["Phát"] == nil && kinds["Theo"] == nil && kinds["Ông"] == nil)
        #expect(enriched.entities.first { $0.text == "Nguyễn Ngọc Cảnh" }?.count == 2)
        #expect(enriched.quotes.map(\.speaker) == ["Nguyễn Ngọc Cảnh", "Bộ Ngoại giao"])
    }

    @Test func titlesWithPortfolioAndCountry() {
        let enriched = enrich("Bộ trưởng Ngoại giao Nga Sergei Lavrov đã gặp Tổng thống Mỹ Joe Biden tại Geneva.")
        let kinds = kinds(enriched)
        #expect(kinds["Sergei Lavrov"] == "person")
        #expect(kinds["Joe Biden"] == "person")
        #expect(kinds["Nga"] == "place")
        #expect(kinds["Mỹ"] == "place")
        #expect(kinds["Geneva"] == "place")
        #expect(kinds["Ngoại"] == nil)
    }

    @Test func hyphensBetweenNames() {
        let enriched = enrich("""
            Quan hệ Việt Nam-Trung Quốc và quan hệ Nga-NATO đã thay đổi, ông Jean-Pierre Raffarin nói tại Hội đồng NATO-Nga.
            """)
        let kinds = kinds(enriched)
        #expect(kinds["Việt Nam"] == "place")
        #expect(kinds["Trung Quốc"] == "place")
        #expect(kinds["Nga"] == "place")
        #expect(kinds["NATO"] == "organization")
        #expect(kinds["Jean-Pierre Raffarin"] == "person")
        #expect(kinds["Hội đồng NATO-Nga"] == "organization")
        #expect(kinds["Nam"] == nil && kinds["Việt"] == nil && kinds["Nga-NATO"] == nil)
    }

    @Test(arguments: [
        ("«Мы не будем участвовать в этой гонке вооружений», — сказал Владимир Путин журналистам в Москве.", "Владимир Путин"),
        ("„Nie zgadzamy się na takie warunki porozumienia” – powiedział premier Donald Tusk w Warszawie.", "Donald Tusk"),
        ("«Η κυβέρνηση θα στηρίξει τα νοικοκυριά με νέα μέτρα», δήλωσε ο πρωθυπουργός Κυριάκος Μητσοτάκης.", "Κυριάκος Μητσοτάκης"),
    ])
    func quotationMarksOfOtherLanguages(text: String, speaker: String) {
        let enriched = enrich(text)
        #expect(enriched.quotes.count == 1)
        #expect(enriched.quotes.first?.speaker == speaker)
        #expect(enriched.quotes.first.map { !$0.text.contains("«") && !$0.text.contains("„") } == true)
    }

    @Test func scareQuotesWithoutSpeakerAreLeftOut() {
        let enriched = enrich("Ukraine cáo buộc Nga \"cố tình đe dọa\" an toàn hạt nhân châu Âu.")
        #expect(enriched.quotes.isEmpty)
    }

    @Test func sentenceStartWordBeforeAKnownName() {
        let enriched = enrich("""
            Footballer David Beckham topped the poll. Women also chose David Beckham as the most stylish.

            Gil Kaplan led the study. "It is a global disease," Kaplan said.
            """)
        let kinds = kinds(enriched)
        #expect(kinds["David Beckham"] != nil)
        #expect(kinds["Footballer David Beckham"] == nil)
        #expect(enriched.entities.first { $0.text == "David Beckham" }?.count == 2)
        // Two words at a sentence start stay a name.
        #expect(kinds["Gil Kaplan"] == "person")
        #expect(enriched.entities.first { $0.text == "Gil Kaplan" }?.count == 2)
    }

    @Test func sentenceStartsInEnglish() {
        let enriched = enrich("""
            Officials met in Paris. Yesterday the talks ended. Later officials said talks would resume. However, nothing was signed.
            """)
        let texts = Set(enriched.entities.map(\.text))
        #expect(texts == ["Paris"])
    }
}
