import Foundation
import RunnelProtocol
import Testing

@testable import EnrichStage

/// The seed page (a Vietnamese article with a quoted NATO spokesperson), enriched.
@Suite struct SeedArticleTests {
    let article: ArticleParsed
    let enriched: ArticleEnriched

    init() throws {
        article = try Fixture.natoArticle()
        enriched = Enricher().enrich(article)
    }

    func entity(_ text: String) -> ArticleEnriched.Entity? {
        enriched.entities.first { $0.text == text }
    }

    @Test func languageIsVietnamese() {
        #expect(enriched.language.code == "vi")
        #expect(enriched.language.confidence >= 0.8)
    }

    @Test func languageIsVietnameseWithoutADeclaredLang() {
        var article = article
        article.lang = nil
        #expect(Enricher().enrich(article).language.code == "vi")
    }

    @Test(arguments: [
        ("NATO", "organization"), ("Nga", "place"), ("Oana Lungescu", "person"), ("Matxcơva", "place"),
        ("Ukraine", "place"), ("Hội đồng NATO-Nga", "organization"),
    ])
    func findsEntity(text: String, kind: String) throws {
        let found = try #require(entity(text), "missing \(text) in \(enriched.entities.map(\.text))")
        #expect(found.kind == kind)
        #expect(found.count >= 1)
    }

    @Test func entityOffsetsPointAtTheirFirstMention() throws {
        let scalars = Array(article.text.unicodeScalars)
        for text in ["NATO", "Matxcơva", "Oana Lungescu", "Hội đồng NATO-Nga", "Ukraine"] {
            let found = try #require(entity(text))
            let length = text.unicodeScalars.count
            let slice = String(String.UnicodeScalarView(scalars[found.first..<(found.first + length)]))
            #expect(slice == text)
        }
        // NATO first appears in "(NATO)" in the first sentence.
        #expect(try #require(entity("NATO")).first == scalarOffset(of: "NATO", in: article.text))
        #expect(try #require(entity("Ukraine")).first == scalarOffset(of: "Ukraine", in: article.text))
    }

    @Test func mentionsAreCountedAndMerged() throws {
        // "Oana Lungescu" once, then "bà Lungescu": one person, two mentions.
        #expect(try #require(entity("Oana Lungescu")).count == 2)
        #expect(entity("Lungescu") == nil)
        #expect(try #require(entity("Matxcơva")).count == 2)
        #expect(try #require(entity("Hội đồng NATO-Nga")).count == 2)
        #expect(try #require(entity("NATO")).count >= 10)
    }

    @Test func sentenceStartsMakeNoEntities() {
        let junk = ["Chúng", "Chúng tôi", "Được", "Trước", "Cũng", "Đồng", "Đồng thời", "Chính", "Trụ", "Động",
                    "Người phát ngôn NATO", "Người", "Đông", "Lungescu"]
        let texts = Set(enriched.entities.map(\.text))
        for word in junk { #expect(!texts.contains(word), "junk entity \(word)") }
        for entity in enriched.entities { #expect(entity.kind != "other", "unclassified \(entity.text)") }
    }

    @Test func bothQuotesAreLungescus() throws {
        #expect(enriched.quotes.count == 2)
        let first = try #require(enriched.quotes.first)
        let second = try #require(enriched.quotes.dropFirst().first)
        #expect(first.text.hasPrefix("Chúng tôi đã ghi nhận quyết định của Nga"))
        #expect(first.text.hasSuffix("Chúng tôi lấy làm tiếc về những bước đi này"))
        #expect(second.text.hasPrefix("Chính sách của NATO đối với Nga vẫn nhất quán."))
        #expect(second.text.hasSuffix("kể cả thông qua Hội đồng NATO-Nga"))
        #expect(first.speaker == "Oana Lungescu")
        #expect(second.speaker == "Oana Lungescu")
    }

    @Test func wordCountIsTheSyllableCount() {
        // Vietnamese counts syllables: every space-separated piece with a letter or digit, and
        // each name of "NATO-Nga".
        let naive = article.text.split(whereSeparator: \.isWhitespace)
            .filter { $0.contains(where: { $0.isLetter || $0.isNumber }) }
            .map { piece in
                let parts = piece.split(separator: "-")
                return parts.count > 1 && parts.allSatisfy({ $0.first?.isUppercase == true }) ? parts.count : 1
            }
            .reduce(0, +)
        #expect(enriched.wordCount == naive, "\(enriched.wordCount) vs \(naive)")
        #expect((250...350).contains(enriched.wordCount))
        // 250 syllables a minute.
        #expect(abs(enriched.readingTimeS - enriched.wordCount * 60 / 250) <= 1)
    }

    @Test func keywordsAreContentPhrases() {
        #expect(enriched.keywords.contains("phái bộ"))
        #expect(enriched.keywords.contains("NATO"))
        #expect(enriched.keywords.count <= 10)
        #expect(enriched.keywords.count >= 5)
        let stopwords = Stopwords.vietnamese
        for keyword in enriched.keywords {
            #expect(!stopwords.contains(keyword.lowercased()), "stopword keyword \(keyword)")
            #expect(!Stopwords.phrases.contains(keyword.lowercased()), "function phrase \(keyword)")
        }
    }

    @Test func summaryIsTheLead() {
        #expect(enriched.summary.hasPrefix("Tổ chức Hiệp ước Bắc Đại Tây Dương (NATO) vừa bày tỏ"))
        #expect(enriched.summary.unicodeScalars.count <= EnrichOptions().summaryMaxCharacters)
        let sentences = TokenizedText(enriched.summary).sentences.count
        #expect((2...3).contains(sentences))
    }

    @Test func summaryRespectsItsBounds() {
        let short = Enricher(options: EnrichOptions(summarySentences: 1, summaryMaxCharacters: 60)).enrich(article)
        #expect(short.summary.unicodeScalars.count <= 60)
        #expect(short.summary.hasSuffix("…"))
        #expect(short.summary.hasPrefix("Tổ chức Hiệp ước"))
    }

    @Test func hashesHaveTheirFormat() {
        #expect(enriched.contentHash.count == 64)
        #expect(enriched.contentHash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(enriched.simhash.count == 16)
        #expect(enriched.simhash.allSatisfy { $0.isHexDigit && !$0.isUppercase })
    }

    @Test func parsedFieldsPassThroughUnchanged() {
        #expect(enriched.article == article)
    }
}
