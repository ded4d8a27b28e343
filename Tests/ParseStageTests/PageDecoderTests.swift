import Foundation
import RunnelProtocol
import Testing

@testable import ParseStage

@Suite("page.fetched decoding")
struct PageDecoderTests {
    @Test("the fast path decodes exactly what JSONDecoder decodes")
    func sameAsJSONDecoder() throws {
        let html = try Fixture.text("page.vi.seed-style.html") + "\t\"quotes\" \\ back\\slash / \u{1}\r\n"
        let page = PageFetched(
            url: "https://thoidai.example.vn/a.html", finalURL: "https://thoidai.example.vn/b.html", contentType: "text/html",
            charset: "utf-8", headers: ["etag": "\"x\""], html: html, fetchedAt: "2025-11-13T01:30:00Z", elapsedMs: 12)
        let body = try RawJSON(encoding: page)
        #expect(try PageDecoder.decode(body).page == page)
        #expect(try PageDecoder.decode(body).page == body.decode(PageFetched.self))
        #expect(try PageDecoder.decode(body).fields.html == "")
    }

    @Test("the html is found wherever it stands among the members, and the members after it are read")
    func htmlAnywhere() throws {
        let body = try RawJSON(#"{"html":"<p>a \"b\" \\ c</p>","url":"https://a.example/x","status":200,"charset":"utf-8"}"#)
        let decoded = try PageDecoder.decode(body)
        #expect(decoded.html == Array(#"<p>a "b" \ c</p>"#.utf8))
        #expect(decoded.fields.url == "https://a.example/x")
        #expect(decoded.fields.charset == "utf-8")
    }

    @Test("a page's html made only of escapes, and an empty one")
    func edgeStrings() throws {
        #expect(try PageDecoder.decode(RawJSON(#"{"url":"u","status":200,"html":"\n\t\"\/"}"#)).html == Array("\n\t\"/".utf8))
        #expect(try PageDecoder.decode(RawJSON(#"{"url":"u","status":200,"html":""}"#)).html == [])
    }

    @Test("random strings, escapes at every offset of a block, members after them: the text and the end JSONDecoder finds")
    func randomStrings() throws {
        let pieces = ["a", "xyz", "abcdefg", "<div class=\"c\">", "\"", "\\", "\n", "\t", "\u{01}", "/", "Đà Nẵng", "東", "😀", " "]
        for round in 0..<2_000 {
            var html = ""
            for _ in 0..<Int.random(in: 0..<80) { html += pieces.randomElement()! }
            // The string as a page.fetched body holds it, then what follows it in the body.
            let json = Array(try JSONEncoder().encode(html)) + Array(#","status":200,"url":"u"}"#.prefix(round % 24).utf8)
            let (text, end) = json.withUnsafeBufferPointer { PageDecoder.unescape($0, from: 1) }
            #expect(text == Array(html.utf8), "\(html.debugDescription)")
            #expect(end == json.count - round % 24, "\(html.debugDescription)")
        }
    }

    @Test("\\u escapes, surrogate pairs and a lone surrogate")
    func unicodeEscapes() throws {
        let body = try RawJSON(#"{"url":"u","status":200,"html":"caf\u00e9 \ud83d\ude00 \u0110\u1ecdc \ud800!"}"#)
        #expect(try PageDecoder.decode(body).page.html == "café 😀 Đọc \u{FFFD}!")
    }

    @Test("bad bodies fail with INVALID_ARGUMENT naming the field", arguments: [
        #"{"url": 5, "status": 200, "html": "x"}"#, #"{"url": "u", "status": 200}"#, #"{"url": "u", "status": 200, "html": 7}"#, "[1]",
    ])
    func badBodies(json: String) throws {
        do {
            _ = try PageDecoder.decode(try RawJSON(json))
            Issue.record("decoded \(json)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("body"))
        }
    }
}
