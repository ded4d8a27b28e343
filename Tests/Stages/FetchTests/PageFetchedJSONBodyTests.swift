import Foundation
import RunnelProtocol
import Testing

@testable import FetchStage

/// `PageFetched.jsonBody` writes the bytes `RawJSON(encoding:)` writes, and they decode to the page.
@Suite struct PageFetchedJSONBodyTests {
    static func expectSameBody(_ page: PageFetched, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let body = page.jsonBody
        let encoded = try RawJSON(encoding: page)
        #expect(body.description == encoded.description, sourceLocation: sourceLocation)
        #expect(try body.decode(PageFetched.self) == page, sourceLocation: sourceLocation)
        #expect((try? RawJSON(body.description)) != nil, "not valid JSON", sourceLocation: sourceLocation)
    }

    @Test func completeAndMinimalPages() throws {
        try Self.expectSameBody(
            PageFetched(
                url: "https://vov.vn/a.html?x=1&y=\"2\"", finalURL: "https://vov.vn/b.html", status: 200,
                contentType: "text/html", charset: "windows-1258",
                headers: ["content-type": "text/html; charset=utf-8", "etag": "\"abc\"", "last-modified": "x", "age": "3"],
                html: "<p>Tin \"nóng\" \\ / 😀</p>\n\t\r", fetchedAt: "2026-12-04T00:00:00Z", elapsedMs: 123,
                redirects: ["https://vov.vn/a", "https://vov.vn/a.html"]))
        try Self.expectSameBody(PageFetched(url: "u", status: 404, contentType: nil, html: ""))
        try Self.expectSameBody(PageFetched(url: "u", status: -1, headers: [:], html: "x", elapsedMs: 0, redirects: []))
    }

    @Test func everyControlCharacterAndEscape() throws {
        let controls = String(String.UnicodeScalarView((0..<0x20).map { Unicode.Scalar(UInt8($0)) }))
        for html in [controls, "\"\\/\u{7F}\u{2028}\u{2029}\u{FEFF}", "a\u{0}b\u{8}c\u{C}d\u{1B}e", String(repeating: "é\"", count: 1_000)] {
            try Self.expectSameBody(PageFetched(url: html, html: html))
        }
    }

    /// Random strings, escapes placed at every offset of the eight-byte runs.
    @Test func randomStrings() throws {
        var state: UInt64 = 14
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        let alphabet: [Unicode.Scalar] = Array("abc <>=/\\\"\n\t\r\u{0}\u{8}\u{C}\u{1F} \u{7F}é中😀".unicodeScalars)
        for _ in 0..<2_000 {
            let count = Int(next() % 40)
            let html = String(String.UnicodeScalarView((0..<count).map { _ in alphabet[Int(next() % UInt64(alphabet.count))] }))
            try Self.expectSameBody(PageFetched(url: "https://x/\(count)", headers: ["h\(count)": html], html: html))
        }
    }
}

/// `CharsetDecoder.isPlainlyNFC` passes only text that normalizing would leave as it is.
@Suite struct PlainlyNFCTests {
    static let allScalars: [Unicode.Scalar] = (0...0x10FFFF).compactMap(Unicode.Scalar.init)

    @Test func passesOnlyScalarsNoNeighbourCanChange() {
        // The scalars that can follow another in a canonical decomposition: the ones that may
        // compose with what precedes them.
        var followers = Set<UInt32>()
        for scalar in Self.allScalars where scalar.properties.generalCategory != .unassigned {
            for follower in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars.dropFirst() {
                followers.insert(follower.value)
            }
        }
        var wrong: [UInt32] = []
        for scalar in Self.allScalars {
            var text = "ab" + String(scalar) + "cd"
            guard text.withUTF8(CharsetDecoder.isPlainlyNFC) else { continue }
            let unchanged = String(scalar).precomposedStringWithCanonicalMapping.unicodeScalars.elementsEqual([scalar])
            if !unchanged || followers.contains(scalar.value) || scalar.properties.canonicalCombiningClass != .notReordered {
                wrong.append(scalar.value)
            }
        }
        #expect(wrong.isEmpty, "U+\(wrong.prefix(20).map { String($0, radix: 16) })")
        var vietnamese = "Phái bộ ngoại giao Đà Nẵng – “tin” … ẞ"
        let vietnameseIsPlain = vietnamese.withUTF8(CharsetDecoder.isPlainlyNFC)
        #expect(vietnameseIsPlain)
        for sentence in [
            "Η κυβέρνηση ανακοίνωσε χθες «νέα μέτρα»· ΐ ΰ ϓ", "Правительство объявило о новых мерах: ёлка, й, Ѣ",
            "政府昨日宣布了新措施，包括《经济》。", "政府は昨日、新しい対策を発表した。ガギグ　ｶﾞ",
        ] {
            var text = sentence
            let isPlain = text.withUTF8(CharsetDecoder.isPlainlyNFC)
            #expect(isPlain, "\(sentence)")
        }
        var decomposed = "Phái bộ".decomposedStringWithCanonicalMapping
        let decomposedIsPlain = decomposed.withUTF8(CharsetDecoder.isPlainlyNFC)
        #expect(!decomposedIsPlain)
    }
}
