import Testing

@testable import EnrichStage

/// The tokenizer and sentence splitter every analysis stands on.
@Suite struct TokenizerTests {
    func words(_ text: String) -> [String] {
        let tokenized = TokenizedText(text)
        return tokenized.tokens.filter(\.isCountable).map(tokenized.text(of:))
    }

    /// The scalars are the String's, for text of one to four bytes a scalar.
    @Test func scalarsAreTheStringsOwn() {
        for text in ["", "a", "Phái bộ Đà Nẵng", "東京 ひらがな", "𝔄 😀 e\u{301}", String(repeating: "dài ố 中 😀 ", count: 500)] {
            #expect(TokenizedText(text).scalars == Array(text.unicodeScalars), "\(text.prefix(20))")
        }
    }

    @Test func vietnameseSyllablesAndHyphenatedNames() {
        // A hyphen between capitalized parts separates names; inside lower-case words it joins.
        #expect(words("Hội đồng NATO-Nga, quan hệ Nga-NATO.") == ["Hội", "đồng", "NATO", "Nga", "quan", "hệ", "Nga", "NATO"])
        #expect(words("a well-known COVID-19 case, Đà Nẵng-based") == ["a", "well-known", "COVID-19", "case", "Đà", "Nẵng-based"])
    }

    @Test func numbersKeepTheirSeparators() {
        #expect(words("hơn 1.100 người, 28,22 triệu lượt; 13/11") == ["hơn", "1.100", "người", "28,22", "triệu", "lượt", "13", "11"])
    }

    @Test func possessivesAreNotPartOfTheWord() {
        let text = TokenizedText("Russia's decision and Moscow’s reply, don't")
        #expect(text.tokens.filter(\.isCountable).map(text.text(of:)) == ["Russia", "decision", "and", "Moscow", "reply", "don't"])
    }

    @Test func ideographsAreTokensOfTheirOwn() {
        #expect(words("北约表示NATO。") == ["北", "约", "表", "示", "NATO"])
    }

    @Test func decomposedVietnameseStaysOneWord() {
        let nfd = "Matxcơva phản ứng".decomposedStringWithCanonicalMapping
        #expect(words(nfd).count == 3)
    }

    @Test func lowerCaseAndKeys() {
        let tokens = TokenizedText("NGƯỜI Phát NGÔN İstanbul ΟΔΟΣ").tokens
        #expect(tokens.map(\.lower) == ["người", "phát", "ngôn", "i̇stanbul", "οδοσ"])
        #expect(tokens.allSatisfy { $0.key == WordHash.of($0.lower) })
        #expect(Stopwords.vietnamese.contains(TokenizedText("Người").tokens[0]))
    }

    @Test func capitalsAndAcronyms() {
        let tokens = TokenizedText("NATO và Nga. Ông Trump").tokens.filter(\.isCountable)
        #expect(tokens.map(\.isAcronym) == [true, false, false, false, false])
        #expect(tokens.map(\.isCapitalized) == [true, false, true, true, true])
        // Sentence starts: the first word, and the word after a period.
        #expect(tokens.map(\.isInitial) == [true, false, false, true, false])
    }

    @Test func sentences() {
        let text = TokenizedText("Mr. Smith went to Washington. He met J. Doe! Did it work? Yes… 北约表示遗憾。他说对话。")
        let sentences = text.sentences.map { text.string(sentence: $0) }
        #expect(sentences == [
            "Mr. Smith went to Washington.", "He met J. Doe!", "Did it work?", "Yes…", "北约表示遗憾。", "他说对话。",
        ])
    }

    @Test func quotedSentencesStayWhole() {
        let text = TokenizedText("“Chúng tôi ghi nhận. Chúng tôi lấy làm tiếc” - ông nói. Sau đó thì sao?")
        #expect(text.sentences.count == 2)
        // The word after a period inside the quotation still starts a sentence.
        let chung = text.tokens.filter { text.text(of: $0) == "Chúng" }
        #expect(chung.count == 2 && chung.allSatisfy(\.isInitial))
    }

    @Test func paragraphsEndSentences() {
        let text = TokenizedText("Tin bài liên quan\n\nNga bất ngờ điều tàu chiến")
        #expect(text.sentences.count == 2)
        #expect(text.tokens.first { text.text(of: $0) == "Nga" }?.breakBefore == true)
    }

    @Test func offsetsCountScalars() {
        let text = TokenizedText("Đà Nẵng 北约 NATO")
        let nato = text.tokens.first { text.text(of: $0) == "NATO" }!
        #expect(nato.start == 11)
        #expect(text.string(nato.start..<nato.end) == "NATO")
    }
}
