// libFuzzer entry for the news body reader (compiled into the RunnelProtocol module by Scripts/fuzz,
// with CJSONScan's C under the same sanitizers).
//
// The input is JSON: an `article.parsed` or `article.enriched` body, or a line whose body is one.
// `NewsBodyReader` (the store's and enrich's reader: strings found sixteen bytes at a time in C,
// escapes undone in place, an object's keys compared as bytes) must give exactly what
// Foundation's decoder gives, or leave the body to it (nil): never a different value, never a
// value where the decoder refuses. A crash, a trap, a difference, a hang or unbounded memory is a
// finding.
import Foundation

private func check(_ body: RawJSON) {
    let parsed = try? body.decode(ArticleParsed.self)
    if let read = ArticleParsed(reading: body), read != parsed {
        fatalError("ArticleParsed(reading:) gives \(read), the decoder \(String(describing: parsed))")
    }
    if let read = ArticleParsed(readingWithoutParagraphs: body) {
        guard var expected = parsed else { fatalError("read without paragraphs what the decoder refuses: \(read)") }
        expected.paragraphs = []
        if read != expected { fatalError("ArticleParsed(readingWithoutParagraphs:) gives \(read), the decoder \(expected)") }
    }
    let enriched = try? body.decode(ArticleEnriched.self)
    if let read = ArticleEnriched(reading: body), read != enriched {
        fatalError("ArticleEnriched(reading:) gives \(read), the decoder \(String(describing: enriched))")
    }
    if let read = ArticleEnriched(readingWithoutParagraphs: body) {
        guard var expected = enriched else { fatalError("read without paragraphs what the decoder refuses: \(read)") }
        expected.article.paragraphs = []
        if read != expected { fatalError("ArticleEnriched(readingWithoutParagraphs:) gives \(read), the decoder \(expected)") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNewsBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    // The reader's input has been checked as JSON, as every body read from a stream or link is.
    guard let text = String(validating: bytes, as: UTF8.self), let body = try? RawJSON(text) else { return 0 }
    check(body)
    if let envelope = try? Envelope(line: bytes) { check(envelope.body) }
    return 0
}
