import Foundation
import RunnelProtocol
import StoreStage
import Testing

/// `ArticleParsed(reading:)` and `ArticleEnriched(reading:)` against Foundation's decoder: on every
/// body each gives exactly the decoder's value, or nil (the store then decodes it). The store's
/// `readingWithoutParagraphs:` variants give the same answers with `paragraphs` left empty.
@Suite struct NewsBodyReaderTests {
    /// Whether both readers agree with the decoder on `json`; records what differs.
    @discardableResult
    static func expectAgreement(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> (
        parsed: ArticleParsed?, enriched: ArticleEnriched?
    ) {
        let body = try RawJSON(json)
        let parsed = ArticleParsed(reading: body)
        if let parsed {
            #expect(parsed == (try? body.decode(ArticleParsed.self)), "article.parsed \(json)", sourceLocation: sourceLocation)
        }
        let enriched = ArticleEnriched(reading: body)
        if let enriched {
            #expect(enriched == (try? body.decode(ArticleEnriched.self)), "article.enriched \(json)", sourceLocation: sourceLocation)
        }
        // The store's readers: the same answers, the same values but for paragraphs left out.
        var parsedWithout = parsed
        parsedWithout?.paragraphs = []
        #expect(ArticleParsed(readingWithoutParagraphs: body) == parsedWithout, "article.parsed without paragraphs \(json)", sourceLocation: sourceLocation)
        var enrichedWithout = enriched
        enrichedWithout?.article.paragraphs = []
        #expect(
            ArticleEnriched(readingWithoutParagraphs: body) == enrichedWithout, "article.enriched without paragraphs \(json)",
            sourceLocation: sourceLocation)
        return (parsed, enriched)
    }

    /// A complete `article.enriched` body with `members` replacing or adding to its own, in order.
    static func enriched(_ members: [String: String] = [:], removing: Set<String> = []) -> String {
        var fields: [(String, String)] = [
            ("url", #""https://example.vn/a.html""#),
            ("canonical_url", #""https://example.vn/a""#),
            ("title", #""Nga thông báo đình chỉ""#),
            ("byline", #""Hà Anh""#),
            ("published_at", #""2021-10-19T08:00:00+07:00""#),
            ("site_name", #""VOV""#),
            ("lang", #""vi""#),
            ("text", #""Đoạn một.\n\nĐoạn hai.""#),
            ("paragraphs", #"["Đoạn một.", "Đoạn hai."]"#),
            ("images", #"[{"src": "https://example.vn/1.jpg", "caption": "Ảnh"}, {"src": "https://example.vn/2.jpg"}]"#),
            ("outlinks", #"["https://example.vn/b"]"#),
            ("related", #"[{"title": "Tin liên quan", "url": "https://example.vn/c"}]"#),
            ("kind", #""article""#),
            ("language", #"{"code": "vi", "confidence": 0.99}"#),
            ("entities", #"[{"text": "NATO", "kind": "organization", "count": 5, "first": 41}]"#),
            ("quotes", #"[{"text": "Chúng tôi tiếc", "speaker": "Oana Lungescu"}, {"text": "Không", "speaker": null}]"#),
            ("keywords", #"["NATO", "Nga"]"#),
            ("summary", #""NATO tiếc.""#),
            ("word_count", "60"),
            ("reading_time_s", "15"),
            ("simhash", #""0123456789abcdef""#),
            ("content_hash", #""abc""#),
        ]
        fields.removeAll { removing.contains($0.0) }
        for (key, value) in members {
            if let i = fields.firstIndex(where: { $0.0 == key }) { fields[i].1 = value } else { fields.append((key, value)) }
        }
        return "{" + fields.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
    }

    @Test func readsCompleteBodiesAsTheDecoderDoes() throws {
        let read = try Self.expectAgreement(Self.enriched())
        #expect(read.enriched != nil && read.parsed != nil)
        // As the stage's own encoder writes them, with Vietnamese, CJK and emoji text.
        let article = ArticleParsed(
            url: "https://example.vn/tin/1", canonicalURL: nil, title: "Đà Nẵng 中文 😀 “quote”", byline: nil,
            paragraphs: ["Một \"hai\" ba \\ bốn / năm", "tab\there\r\nline"],
            images: [.init(src: "https://x/1.png")], related: [.init(title: "t", url: "u")], kind: .listing)
        let enriched = ArticleEnriched(
            article: article, language: .init(code: "vi", confidence: 0.3), entities: [], quotes: [.init(text: "q", speaker: nil)],
            keywords: [], summary: "", wordCount: 0, readingTimeS: 0, simhash: "f", contentHash: "")
        for body in [try RawJSON(encoding: article), try RawJSON(encoding: enriched)] {
            let read = try Self.expectAgreement(body.description)
            #expect(read.parsed == article)
        }
        #expect(try Self.expectAgreement(try RawJSON(encoding: enriched).description).enriched == enriched)
    }

    @Test func minimalBodiesTakeTheDecodersDefaults() throws {
        let parsed = try Self.expectAgreement(#"{"url": "u", "title": "", "text": "A\n\n  B  \n\n\n\nC"}"#)
        #expect(parsed.parsed?.paragraphs == ["A", "B", "C"])
        #expect(parsed.parsed?.kind == .article)
        #expect(parsed.enriched == nil)
        let enriched = try Self.expectAgreement(
            #"{"url": "u", "title": "t", "text": "x", "language": {"code": "en", "confidence": 1}, "word_count": 3, "simhash": "s", "content_hash": "c"}"#
        )
        #expect(enriched.enriched?.summary == "")
        #expect(enriched.enriched?.readingTimeS == 0)
    }

    @Test(arguments: [
        #""a\nb\tc\rd\be\ff\"g\\h\/i""#,  // every short escape
        #""\u00e9t\u00C9""#,  // \u escapes
        #""\ud83d\ude00 emoji""#,  // a surrogate pair
        #""\u0000 nul""#,
        #""\u2028\u2029""#,
        #""Ω ﬃ İ ẞ 𝔄 ｆｕｌｌ""#,
        #""""#,
        "\"\(String(repeating: "dài ", count: 5_000))\"",
    ])
    func stringsWithEscapesAndUnicode(value: String) throws {
        for key in ["title", "text", "summary", "byline", "simhash"] {
            try Self.expectAgreement(Self.enriched([key: value]))
        }
        try Self.expectAgreement(Self.enriched(["paragraphs": "[\(value), \(value)]", "keywords": "[\(value)]"]))
        try Self.expectAgreement(Self.enriched(["entities": #"[{"text": \#(value), "kind": "person", "count": 1, "first": 0}]"#]))
    }

    @Test func shortEscapesAreReadDirectly() throws {
        let read = try Self.expectAgreement(Self.enriched(["title": #""a\nb\tc\rd\be\ff\"g\\h\/i""#]))
        #expect(read.enriched?.article.title == "a\nb\tc\rd\u{8}e\u{C}f\"g\\h/i")
    }

    /// Strings longer than the sixteen bytes the scan takes at once, with an escape at every
    /// place: the end is found and the escapes written wherever they fall, a `\u` late in a long
    /// string still leaves it to the decoder.
    @Test func escapesAtEveryPlaceOfALongString() throws {
        for escape in [#"\""#, #"\\"#, #"\n"#, #"\u00e9"#] {
            for place in 0..<40 {
                let before = String(repeating: "đ", count: place / 2) + String(repeating: "a", count: place % 2)
                let value = "\"" + before + escape + String(repeating: "x", count: 40 - place) + "\""
                let read = try Self.expectAgreement(Self.enriched(["title": value, "summary": value]))
                #expect((read.enriched != nil) == !escape.hasPrefix(#"\u"#), "\(value)")
            }
        }
    }

    /// Repeated keys are the decoder's wherever they stand: among an object's first sixteen
    /// keys, which are compared byte for byte, and after them.
    @Test func repeatedKeysAmongManyMembers() throws {
        let unknown = (0..<24).map { #""extra\#($0)": \#($0)"# }
        let distinct = try Self.expectAgreement(Self.enriched(["more": "{" + unknown.joined(separator: ", ") + "}"]))
        #expect(distinct.enriched != nil)
        for repeated in [0, 3, 15, 16, 20] {
            var members = unknown
            members.insert(#""extra\#(repeated)": 0"#, at: 22)
            let read = try Self.expectAgreement(Self.enriched(["more": "{" + members.joined(separator: ", ") + "}"]))
            #expect(read.enriched == nil, "key \(repeated) twice")
        }
        // The top level has twenty keys of its own: one of its first sixteen again at the end.
        let body = Self.enriched().dropLast() + #", "title": "again"}"#
        #expect(try Self.expectAgreement(String(body)).enriched == nil)
    }

    @Test(arguments: [
        "url", "title", "text", "language", "word_count", "simhash", "content_hash", "paragraphs", "images", "kind",
        "entities", "summary", "reading_time_s", "canonical_url",
    ])
    func missingFields(key: String) throws {
        try Self.expectAgreement(Self.enriched(removing: [key]))
    }

    @Test(arguments: [
        "url", "title", "text", "language", "word_count", "simhash", "content_hash", "canonical_url", "byline",
        "published_at", "updated_at", "description", "site_name", "lang", "paragraphs", "images", "outlinks", "related",
        "kind", "entities", "quotes", "keywords", "summary", "reading_time_s",
    ])
    func nullFields(key: String) throws {
        try Self.expectAgreement(Self.enriched([key: "null"]))
        try Self.expectAgreement(Self.enriched([key: " null "]))
    }

    @Test func optionalNullsReadAsAbsent() throws {
        let read = try Self.expectAgreement(
            Self.enriched([
                "canonical_url": "null", "byline": "null", "paragraphs": "null", "images": "null", "kind": "null",
                "entities": "null", "summary": "null", "reading_time_s": "null",
            ]))
        #expect(read.enriched != nil)
        #expect(read.enriched?.article.paragraphs == ["Đoạn một.", "Đoạn hai."])
    }

    @Test(arguments: [
        // Repeated keys, at the top and inside members.
        #"{"title": "a", "title": "b", "url": "u", "text": "t"}"#,
        #"{"url": "u", "title": "t", "text": "x", "images": [{"src": "a", "src": "b"}]}"#,
        // A key written with an escape.
        #"{"url": "u", "ti\u0074le": "t", "text": "x"}"#,
        #"{"url": "u", "title": "t", "text": "x", "x\"y": 1}"#,
        // Not an object, or empty.
        "[]", "null", "\"text\"", "{}", "3",
        // Pretty-printed.
        "{\n  \"url\" : \"u\" ,\n\t\"title\":\"t\",\r\n \"text\" : \"x\" , \"kind\" : \"other\" \n}\n",
    ])
    func oddShapes(json: String) throws {
        try Self.expectAgreement(json)
    }

    @Test(arguments: [
        "60", "-0", "0", "1.0", "1e2", "1E2", "60.5", "-1", "\"60\"", "true", "[60]", "{}",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "-9223372036854775809",
        "123456789012345678901234567890", "1e400", "-1e400", "0.0000001",
    ])
    func integersOfEveryKind(number: String) throws {
        try Self.expectAgreement(Self.enriched(["word_count": number]))
        try Self.expectAgreement(Self.enriched(["reading_time_s": number]))
        try Self.expectAgreement(Self.enriched(["entities": #"[{"text": "A", "kind": "person", "count": \#(number), "first": 0}]"#]))
    }

    @Test(arguments: [
        "0.99", "1", "0", "-0", "-0.0", "1e-3", "1E+2", "0.1", "0.30000000000000004", "0.99999999999999999999",
        "2.2250738585072014e-308", "4.9e-324", "2e-400", "1.7976931348623157e308", "1e400", "-1e400",
        "123456789012345678901234567890e-29", "\"0.9\"", "null", "true",
    ])
    func doublesOfEveryKind(number: String) throws {
        let read = try Self.expectAgreement(Self.enriched(["language": #"{"code": "vi", "confidence": \#(number)}"#]))
        if let value = read.enriched?.language.confidence, let decoded = try? RawJSON(Self.enriched(["language": #"{"code": "vi", "confidence": \#(number)}"#])).decode(ArticleEnriched.self) {
            // The same double to the bit, not merely ==.
            #expect(value.bitPattern == decoded.language.confidence.bitPattern)
        }
    }

    @Test(arguments: [
        // Values of other types where a string, an array or an object belongs.
        ["url": "3"], ["title": "true"], ["text": "[\"a\"]"], ["paragraphs": "\"a\""], ["paragraphs": "[1]"],
        ["images": "{}"], ["images": "[\"a\"]"], ["images": #"[{"caption": "no src"}]"#], ["images": #"[{"src": 1}]"#],
        ["outlinks": "[null]"], ["related": #"[{"title": "t"}]"#], ["kind": "\"bogus\""], ["kind": "3"], ["kind": "\"listing\""],
        ["language": "\"vi\""], ["language": #"{"code": "vi"}"#], ["language": #"{"confidence": 1}"#],
        ["entities": #"[{"text": "A", "kind": "person", "count": 1}]"#], ["quotes": #"[{"speaker": "x"}]"#],
        ["quotes": #"[{"text": "x"}]"#], ["keywords": "[\"a\", 1]"], ["summary": "{}"], ["simhash": "1"],
    ] as [[String: String]])
    func valuesOfOtherTypes(members: [String: String]) throws {
        try Self.expectAgreement(Self.enriched(members))
    }

    @Test func unknownMembersAreSkippedAtEveryLevel() throws {
        let nested = #"{"a": [1, -2.5e-3, true, false, null, "x\"}", {"b": [[], {}, [[{"c": "]"}]]]}], "d": {}}"#
        let read = try Self.expectAgreement(
            Self.enriched([
                "extra": nested, "images": #"[{"src": "s", "width": 3, "meta": \#(nested)}]"#,
                "language": #"{"code": "vi", "confidence": 0.5, "alternatives": \#(nested)}"#,
                "entities": #"[{"text": "A", "kind": "person", "count": 1, "first": 0, "spans": [[0, 1]]}]"#,
            ]))
        #expect(read.enriched != nil)
    }

    /// Bodies the stage's encoder writes from random values, then those bodies with a byte
    /// changed or two (kept when still JSON): the readers agree with the decoder on every one.
    @Test func randomBodiesAndTheirMutations() throws {
        var random = SplitMix64(seed: 14)
        let printable: [Unicode.Scalar] = Array("aZ09 \"\\/\n\t{}[]:,".unicodeScalars) + [
            "\u{7F}", "é", "đ", "Ω", "中", "😀", "\u{0301}", "\u{2028}", "\u{FEFF}",
        ]
        var alphabet = printable
        func string() -> String {
            var s = String.UnicodeScalarView()
            for _ in 0..<Int.random(in: 0..<12, using: &random) { s.append(alphabet.randomElement(using: &random)!) }
            return String(s)
        }
        var readDirectly = 0
        var mutants = 0
        for round in 0..<300 {
            // One body in three holds control characters too, which the encoder writes as \u00XX.
            alphabet = round % 3 == 0 ? printable + ["\u{0}", "\u{8}", "\u{C}", "\u{1F}"] : printable
            let article = ArticleParsed(
                url: string(), canonicalURL: Bool.random(using: &random) ? string() : nil, title: string(),
                byline: Bool.random(using: &random) ? string() : nil, paragraphs: (0..<2).map { _ in string() },
                images: [.init(src: string(), caption: Bool.random(using: &random) ? string() : nil)], outlinks: [string()],
                related: [.init(title: string(), url: string())], kind: [.article, .listing, .other].randomElement(using: &random)!)
            let enriched = ArticleEnriched(
                article: article, language: .init(code: string(), confidence: Double.random(in: 0...1, using: &random)),
                entities: [.init(text: string(), kind: string(), count: Int.random(in: 0...9, using: &random), first: Int.random(in: -9...9_999_999, using: &random))],
                quotes: [.init(text: string(), speaker: Bool.random(using: &random) ? string() : nil)], keywords: [string()],
                summary: string(), wordCount: Int.random(in: Int.min...Int.max, using: &random), readingTimeS: Int.random(in: 0...999, using: &random),
                simhash: string(), contentHash: string())
            let body = try RawJSON(encoding: enriched).bytes
            let read = try Self.expectAgreement(String(decoding: body, as: UTF8.self))
            if let value = read.enriched {
                #expect(value == enriched)
                readDirectly += 1
            }
            for _ in 0..<20 {
                var mutant = body
                for _ in 0..<Int.random(in: 1...2, using: &random) {
                    let i = Int.random(in: 0..<mutant.count, using: &random)
                    mutant[i] = Array(#"0123456789"{}[],:-.eEtrufalsn \u"#.utf8).randomElement(using: &random)!
                }
                guard let text = String(validating: mutant, as: UTF8.self), (try? RawJSON(text)) != nil else { continue }
                mutants += 1
                try Self.expectAgreement(text)
            }
        }
        #expect(readDirectly >= 200)
        #expect(mutants > 300)
    }
}

/// A seeded generator, so a failure repeats.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
