import RunnelProtocol
import Testing

@testable import EnrichStage

/// Language, word count and reading time for English, Chinese and degenerate texts.
@Suite struct LanguageTests {
    @Test func englishSample() throws {
        let article = try Fixture.article("article.en.nato-mission.txt")
        let enriched = Enricher().enrich(article)
        #expect(enriched.language.code == "en")
        #expect(enriched.language.confidence >= 0.8)
        // Every space-separated piece is a word ("Russia's" one, "2014" one).
        let naive = article.text.split(whereSeparator: \.isWhitespace)
            .filter { $0.contains(where: { $0.isLetter || $0.isNumber }) }.count
        #expect(enriched.wordCount == naive)
        // 228 words a minute.
        #expect(abs(enriched.readingTimeS - Int((Double(naive) / 228 * 60).rounded())) <= 1)
    }

    @Test func chineseSample() throws {
        let article = try Fixture.article("article.zh.nato-mission.txt")
        let enriched = Enricher().enrich(article)
        #expect(enriched.language.code == "zh")
        #expect(enriched.language.confidence >= 0.8)
        // Chinese counts characters (字数): every ideograph, no punctuation.
        let ideographs = article.text.unicodeScalars.filter { (0x4E00...0x9FFF).contains($0.value) }.count
        #expect(enriched.wordCount == ideographs)
        #expect((80...130).contains(enriched.wordCount))
        // 255 characters a minute.
        #expect(abs(enriched.readingTimeS - Int((Double(ideographs) / 255 * 60).rounded())) <= 1)
        // Known names are the only entities in text without capitals.
        #expect(enriched.entities.contains { $0.text == "北约" && $0.kind == "organization" })
        #expect(enriched.entities.contains { $0.text == "俄罗斯" && $0.kind == "place" })
        #expect(enriched.keywords.contains("北约"))
        #expect(enriched.summary.hasPrefix("北约秘书长"))
    }

    @Test func mixedChineseCountsLatinWordsToo() {
        let text = TokenizedText("北约秘书长 Jens Stoltenberg 表示")
        #expect(ReadingStats(text, language: "zh").wordCount == 5 + 2 + 2)
    }

    @Test func emptyTextFallsBackToTheDeclaredLanguage() {
        let article = ArticleParsed(url: "https://example.vn/", title: "", lang: "vi-VN", paragraphs: [])
        let enriched = Enricher().enrich(article)
        #expect(enriched.language == .init(code: "vi", confidence: 0))
        #expect(enriched.wordCount == 0)
        #expect(enriched.readingTimeS == 0)
        #expect(enriched.entities.isEmpty && enriched.quotes.isEmpty && enriched.keywords.isEmpty)
        #expect(enriched.summary == "")
        #expect(enriched.simhash == "0000000000000000")
        #expect(enriched.contentHash.count == 64)
    }

    @Test func emptyTextWithoutADeclaredLanguageIsUndetermined() {
        let enriched = Enricher().enrich(ArticleParsed(url: "https://example.com/", paragraphs: []))
        #expect(enriched.language == .init(code: "und", confidence: 0))
        #expect(enriched.wordCount == 0)
    }

    @Test func unsureDetectionYieldsToTheDeclaredLanguage() {
        let detector = LanguageDetector()
        // Digits and a symbol say nothing about a language.
        let result = detector.detect("2014 – 2025: 10 / 20", declared: "pl")
        #expect(result.code == "pl")
        #expect(result.confidence < 0.5)
    }

    @Test func sureDetectionOverridesAWrongDeclaration() {
        let text = "Tổ chức Hiệp ước Bắc Đại Tây Dương vừa bày tỏ lấy làm tiếc về quyết định của Nga đình chỉ hoạt động của các phái bộ."
        let result = LanguageDetector().detect(text, declared: "en")
        #expect(result.code == "vi")
        #expect(result.confidence >= 0.8)
    }

    @Test(arguments: [
        ("Polska wygrała mecz z Niemcami po dramatycznej końcówce, a kibice świętowali na ulicach Warszawy do rana.", "pl"),
        ("Η κυβέρνηση ανακοίνωσε νέα μέτρα για τη στήριξη των νοικοκυριών απέναντι στην αύξηση των τιμών της ενέργειας.", "el"),
        ("Правительство объявило о новых мерах поддержки семей в связи с ростом цен на энергоносители в этом году.", "ru"),
    ])
    func otherLanguages(text: String, code: String) {
        #expect(LanguageDetector().detect(text, declared: nil).code == code)
    }

    @Test(arguments: [
        ("vi-VN", "vi"), ("en_US", "en"), ("zh-Hant", "zh"), ("iw", "he"), ("EN", "en"), ("", nil), ("un", nil),
        ("x", nil), ("12", nil),
    ] as [(String, String?)])
    func normalizesLanguageTags(tag: String, code: String?) {
        #expect(LanguageDetector.normalize(tag) == code)
    }
}

extension LanguageTests {
    @Test func longTextIsCutAtACharacterBoundary() {
        // 64 KB falls inside a two-byte letter here: CLD2 must still see valid UTF-8.
        let text = "xxxx" + String(repeating: "Đà Nẵng phản ứng ra sao về quyết định này? ", count: 3000)
        let bytes = Array(text.utf8)
        #expect(bytes.count > LanguageDetector.maxBytes)
        #expect(bytes[LanguageDetector.maxBytes] & 0xC0 == 0x80)
        #expect(LanguageDetector().detect(text, declared: nil).code == "vi")
    }
}
