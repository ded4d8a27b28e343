import Foundation
import GRDB
import RunnelProtocol
import RunnelStage
import StoreStage
import Testing

/// A fresh directory for one test's database, removed at the end.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Articles and messages named after what they are for.
enum Fixture {
    static let missionTitle = "Nga thông báo đình chỉ hoạt động phái bộ ngoại giao, NATO phản ứng ra sao?"
    static let missionText = """
        Tổ chức Hiệp ước Bắc Đại Tây Dương (NATO) vừa bày tỏ lấy làm tiếc về quyết định của Nga.

        “Chúng tôi đã ghi nhận quyết định của Nga về việc đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva, đồng thời đóng cửa văn phòng thông tin của NATO ở Matxcơva.” - Người phát ngôn NATO Oana Lungescu nói.
        """

    static func parsed(
        url: String = "https://example.vn/nato-nga.html", canonical: String? = "https://example.vn/nato-nga",
        title: String = missionTitle, text: String = missionText, publishedAt: String? = "2021-10-19T08:00:00+07:00"
    ) -> ArticleParsed {
        var article = ArticleParsed(
            url: url, canonicalURL: canonical, title: title, publishedAt: publishedAt, siteName: "Example",
            lang: "vi", paragraphs: ArticleParsed.split(text),
            outlinks: ["https://example.vn/a", "https://example.vn/b"],
            related: [ArticleParsed.Link(title: "Tin bài liên quan", url: "https://example.vn/c")])
        article.text = text
        return article
    }

    static func enriched(_ article: ArticleParsed, contentHash: String = "") -> ArticleEnriched {
        ArticleEnriched(
            article: article, language: .init(code: "vi", confidence: 0.99),
            entities: [.init(text: "NATO", kind: "organization", count: 5, first: 41)],
            quotes: [.init(text: "Chúng tôi lấy làm tiếc", speaker: "Oana Lungescu")],
            keywords: ["NATO", "Nga", "phái bộ"], summary: "NATO tiếc quyết định của Nga.", wordCount: 60,
            readingTimeS: 15, simhash: "0123456789abcdef", contentHash: contentHash)
    }

    static func envelope(_ article: ArticleParsed, id: String = MessageID.make()) throws -> Envelope {
        Envelope(id: id, type: MessageType.articleParsed, body: try RawJSON(encoding: article))
    }

    static func envelope(_ article: ArticleEnriched, id: String = MessageID.make()) throws -> Envelope {
        Envelope(id: id, type: MessageType.articleEnriched, body: try RawJSON(encoding: article))
    }

    static func errorEnvelope(url: String = "https://example.vn/missing", id: String = MessageID.make()) throws -> Envelope {
        let failed = Envelope(type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: url)))
        let record = ErrorRecord(
            error: RunnelError(.notFound, "HTTP 404 for \(url)"), stage: "fetch", attempt: 1, url: url, original: failed)
        return Envelope(id: id, type: MessageType.error, body: try RawJSON(encoding: record))
    }
}

extension StageOutcome {
    /// The `article.stored` this outcome emitted, or a test failure.
    func stored(sourceLocation: SourceLocation = #_sourceLocation) throws -> ArticleStored {
        guard case let .emit(emissions) = self else {
            Issue.record("expected an emission, got \(self)", sourceLocation: sourceLocation)
            throw RunnelError(.internal, "no emission")
        }
        #expect(emissions.count == 1, sourceLocation: sourceLocation)
        let emission = try #require(emissions.first, sourceLocation: sourceLocation)
        #expect(emission.type == MessageType.articleStored, sourceLocation: sourceLocation)
        return try emission.body.decode(ArticleStored.self)
    }

    /// The error this outcome failed with, or nil.
    var failure: RunnelError? {
        if case let .fail(error) = self { return error }
        return nil
    }
}

/// Reads the database directly, to check what the store wrote.
func count(_ table: String, in path: String, where condition: String = "1") throws -> Int {
    let queue = try DatabaseQueue(path: path)
    defer { try? queue.close() }
    return try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table) WHERE \(condition)") ?? -1 }
}
