import RunnelProtocol
import Testing

@testable import EnrichStage

/// Odd and large inputs: nothing crashes, limits hold.
@Suite struct RobustnessTests {
    @Test(arguments: [
        "“", "\"", "”unopened", "“never closed", "…", "- - -", "NATO-", "-Nga", "Mr.", "ông", "Người phát ngôn",
        "\u{0301}\u{0301}", "😀 👍🏽 🇻🇳", "\u{0}\u{1}\u{7F}", "a\u{200B}b", "[", "]", "[]", "()", "。。。", "北",
        "Hội đồng", "Bộ", "said", "\"…,\" said", "“” - nói", String(repeating: "A", count: 5000),
    ])
    func oddTextDoesNotCrash(text: String) {
        let enriched = Enricher().enrich(ArticleParsed(url: "u", title: text, lang: "vi", paragraphs: [text]))
        #expect(enriched.wordCount >= 0)
        #expect(enriched.simhash.count == 16)
        #expect(enriched.language.confidence >= 0 && enriched.language.confidence <= 1)
        for entity in enriched.entities {
            #expect(entity.first >= 0 && entity.first < text.unicodeScalars.count)
        }
    }

    @Test func randomTextDoesNotCrash() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯNATOHộiđồng  .,;:!?-–—“”\"'’()[]«»「」。，北约俄罗斯\n\n0123456789")
        for _ in 0..<200 {
            let length = Int.random(in: 0..<400, using: &generator)
            let text = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            let enriched = Enricher().enrich(ArticleParsed(url: "u", title: "", paragraphs: ArticleParsed.split(text)))
            #expect(enriched.simhash.count == 16)
            for quote in enriched.quotes { #expect(!quote.text.isEmpty) }
        }
    }

    @Test func analysisLimitBoundsTheWorkNotTheCounts() throws {
        let paragraph = try Fixture.natoArticle().text
        let long = Array(repeating: paragraph, count: 40).joined(separator: "\n\n")
        let article = ArticleParsed(url: "u", title: "", lang: "vi", paragraphs: ArticleParsed.split(long))
        let limited = Enricher(options: EnrichOptions(maxAnalyzedCharacters: 2000)).enrich(article)
        let full = Enricher().enrich(article)
        // Counts and hashes cover the whole text…
        #expect(limited.wordCount == full.wordCount)
        #expect(limited.contentHash == full.contentHash)
        #expect(limited.simhash == full.simhash)
        // …entities only the first 2000 characters.
        #expect(limited.entities.allSatisfy { $0.first < 2000 })
        #expect((limited.entities.first { $0.text == "NATO" }?.count ?? 0) < (full.entities.first { $0.text == "NATO" }?.count ?? 0))
    }
}
