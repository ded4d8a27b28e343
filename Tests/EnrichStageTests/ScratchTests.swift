import Foundation
import Testing
@testable import EnrichStage
import RunnelProtocol

@Test func scratch() throws {
    let article = try Fixture.natoArticle()
    let e = Enricher().enrich(article)
    let enc = JSONEncoder()
    enc.outputFormatting = [.prettyPrinted, .withoutEscapingSlashes]
    var copy = e
    copy.article.text = ""
    copy.article.paragraphs = []
    print(String(decoding: try enc.encode(copy), as: UTF8.self))
}
