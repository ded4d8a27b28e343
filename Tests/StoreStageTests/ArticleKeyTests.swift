import RunnelProtocol
@testable import StoreStage
import Testing

/// ``ArticleKey/isNormal(_:)`` skips WebURL for a URL already in its normal form: it must
/// accept only strings WebURL gives back unchanged, and accept the common ones.
@Suite struct ArticleKeyTests {
    static let bases = [
        "https://vov.vn/the-gioi/nga-dinh-chi-hoat-dong-cua-phai-bo-ngoai-giao-tai-nato-898466.vov",
        "https://vnexpress.net/bo-truong-4382341.html?utm_source=a&x=1",
        "http://example.com/a/b/c/",
        "https://www.bbc.co.uk/news/world-europe-58947474",
        "https://tuoitre.vn/tin-moi.htm?page=2#comments",
        "https://a.vn/%C4%90a-Nang/x;y=1",
        "https://news.example.org/2021/10/19/story.html",
        "https://example.vn/path/./a",
        "https://example.vn/a/../b",
        "https://example.vn/a/%2e%2E/b",
        "https://Example.vn/a",
        "https://example.vn:443/a",
        "https://xn--bo-7ja.vn/a",
        "https://192.168.0.1/a",
        "https://example.vn",
        "https://example.vn?q=1",
        "https://example.vn/a b",
        "https://example.vn/it's?q=it's",
        "https://example.vn/a\\b",
        "https://user@example.vn/a",
        "https://exa_mple.vn/a",
        "https://báo.vn/a",
        "https://example.vn./a",
        "https://a..b.vn/a",
        "https://example.0x1f/a",
        "https://example.vn/a?b=%zz",
        "https://example.vn/.",
        "https://example.vn/..?x",
    ]

    static func expected(_ url: String) -> String {
        (try? WebURL(url).removingFragment.href) ?? url
    }

    @Test("what the scan accepts, WebURL gives back unchanged; the common forms are accepted")
    func agreesWithWebURL() {
        for url in Self.bases where ArticleKey.isNormal(url) {
            #expect(Self.expected(url) == url, "\(url)")
        }
        for url in Self.bases.prefix(4) + ["https://news.example.org/2021/10/19/story.html", "https://a.vn/%C4%90a-Nang/x;y=1"] {
            #expect(ArticleKey.isNormal(url), "\(url) is already normal")
        }
        for url in Self.bases where !ArticleKey.isNormal(url) {
            #expect(ArticleKey.normalized(url) == Self.expected(url), "\(url)")
        }
    }

    /// Every printable ASCII character and a few others, put in at every place of a few URLs:
    /// wherever the scan says "already normal", WebURL must agree.
    @Test("one character put in anywhere: the scan never accepts what WebURL would change")
    func insertedCharacters() {
        let characters = (0x20...0x7E).map { Character(Unicode.Scalar(UInt8($0))) } + ["\t", "\n", "é", "\u{00A0}"]
        var accepted = 0
        var checked = 0
        for base in ["https://vov.vn/the-gioi/a.b-1?x=1&y", "http://a-b.example.vn/x/y/", "https://v.vn/%41"] {
            let chars = Array(base)
            for position in 0...chars.count {
                for character in characters {
                    var mutated = chars
                    mutated.insert(character, at: position)
                    let url = String(mutated)
                    checked += 1
                    guard ArticleKey.isNormal(url) else { continue }
                    accepted += 1
                    #expect(Self.expected(url) == url, "\(url)")
                }
            }
        }
        #expect(accepted > checked / 10, "the scan accepts a fair share: \(accepted) of \(checked)")
    }

    @Test("the canonical URL is trimmed and wins over the fetched one; an empty one does not")
    func canonicalFirst() {
        var article = ArticleParsed(url: "https://vov.vn/a.html#x", title: "t", paragraphs: ["p"])
        #expect(ArticleKey.of(article) == "https://vov.vn/a.html")
        article.canonicalURL = "  https://vov.vn/a\n"
        #expect(ArticleKey.of(article) == "https://vov.vn/a")
        article.canonicalURL = " \u{00A0}"
        #expect(ArticleKey.of(article) == "https://vov.vn/a.html")
        article.canonicalURL = "HTTPS://VOV.vn:443/./b"
        #expect(ArticleKey.of(article) == "https://vov.vn/b")
    }
}

@Suite("article.stored bodies")
struct ArticleStoredBodyTests {
    @Test("the hand-written body is byte for byte what RawJSON(encoding:) writes", arguments: [
        ArticleStored(url: "https://a.example/x", canonicalURL: "https://a.example/x", articleID: 1, action: .inserted, version: 1),
        ArticleStored(
            url: "https://a.example/x?q=\"1\"&r=/đ", canonicalURL: "https://a.example/😀", articleID: Int64.max, action: .unchanged,
            version: Int.max),
        ArticleStored(url: "", canonicalURL: "\u{1}\\", articleID: -1, action: .updated, version: 0),
    ])
    func sameAsEncoder(stored: ArticleStored) throws {
        #expect(stored.jsonBody.bytes == (try RawJSON(encoding: stored)).bytes)
        #expect(try stored.jsonBody.decode(ArticleStored.self) == stored)
    }
}
