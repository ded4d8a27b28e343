import Testing

@testable import FetchStage

/// ``ContentDecoding``: a body's gzip or deflate undone whole, its decoded size bounded.
@Suite("Content-Encoding decoded whole, with libdeflate")
struct ContentDecodingTests {
    static let page = Array(String(repeating: "<p>Tin bài liên quan · Đọc nhiều</p>\n", count: 3000).utf8)

    @Test("gzip, x-gzip and deflate (a zlib stream, or raw DEFLATE as some servers send) give the page back")
    func encodings() throws {
        let raw = Array(Compression.zlib(Self.page).dropFirst(2).dropLast(4))
        for (body, encoding) in [
            (Compression.gzip(Self.page), "gzip"), (Compression.gzip(Self.page), " X-GZIP "),
            (Compression.zlib(Self.page), "deflate"), (raw, "Deflate"), (Self.page, "identity"), (Self.page, ""),
        ] {
            #expect(try ContentDecoding.decode(body, encoding: encoding, limit: 1 << 20) == Self.page, "\(encoding)")
        }
        #expect(!ContentDecoding.decodes("br"))
        #expect(ContentDecoding.decodes("gzip") && ContentDecoding.decodes("identity") && ContentDecoding.decodes(""))
    }

    @Test("every member of a gzip body is decoded; bytes after the last that start none are ignored")
    func members() throws {
        let (first, second) = (Array(Self.page[..<1000]), Array(Self.page[1000...]))
        let body = Compression.gzip(first) + Compression.gzip(second) + [0, 0, 0, 0]
        #expect(try ContentDecoding.decode(body, encoding: "gzip", limit: 1 << 20) == Self.page)
    }

    @Test("a gzip trailer with the wrong size is corrupt, as zlib has it; a deflate body of unknown size gets more room until it fits")
    func lyingSize() throws {
        var body = Compression.gzip(Self.page)
        body.replaceSubrange(body.count - 4..<body.count, with: [16, 0, 0, 0])
        // libdeflate checks the size it decoded against the trailer: a lie is corrupt data.
        #expect(throws: ContentDecoding.Failure.self) { try ContentDecoding.decode(body, encoding: "gzip", limit: 1 << 20) }
        let big = Array(repeating: UInt8(ascii: "a"), count: 300_000)
        #expect(try ContentDecoding.decode(Compression.zlib(big), encoding: "deflate", limit: 1 << 20) == big)
    }

    @Test("the limit: a page of exactly the limit passes, one byte more is too large, or cut there when asked (up to four times the limit)")
    func limit() throws {
        let gzipped = Compression.gzip(Self.page)
        #expect(try ContentDecoding.decode(gzipped, encoding: "gzip", limit: Self.page.count) == Self.page)
        #expect(throws: ContentDecoding.Failure.tooLarge) {
            try ContentDecoding.decode(gzipped, encoding: "gzip", limit: Self.page.count - 1)
        }
        #expect(throws: ContentDecoding.Failure.tooLarge) {
            try ContentDecoding.decode(Compression.zlib(Self.page), encoding: "deflate", limit: 5000)
        }
        let cut = try ContentDecoding.decode(gzipped, encoding: "gzip", limit: 50_000, truncate: true)
        #expect(cut == Array(Self.page[..<50_000]))
        #expect(throws: ContentDecoding.Failure.tooLarge) {
            try ContentDecoding.decode(gzipped, encoding: "gzip", limit: Self.page.count / 5, truncate: true)
        }
    }

    @Test("corrupt and cut-short bodies are corrupt; an empty one is empty")
    func corrupt() throws {
        let gzipped = Compression.gzip(Self.page)
        for body in [Array(gzipped.dropLast(9)), [0x1F, 0x8B, 8, 0, 0xDE, 0xAD, 0xBE, 0xEF], Array("not gzip".utf8)] {
            #expect(throws: ContentDecoding.Failure.self) { try ContentDecoding.decode(body, encoding: "gzip", limit: 1 << 20) }
        }
        #expect(throws: ContentDecoding.Failure.self) {
            try ContentDecoding.decode(Array(Compression.zlib(Self.page).dropLast(20)), encoding: "deflate", limit: 1 << 20)
        }
        #expect(try ContentDecoding.decode([], encoding: "gzip", limit: 100) == [])
    }
}
