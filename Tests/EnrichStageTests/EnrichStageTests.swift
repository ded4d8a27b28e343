import Foundation
import RunnelProtocol
import RunnelStage
import RunnelTesting
import Testing

@testable import EnrichStage

/// The stage as the runner sees it: service definition, messages in and out, failures.
@Suite struct EnrichStageTests {
    @Test func describesItself() throws {
        let stage = try EnrichStage()
        #expect(stage.service.name == "enrich")
        #expect(stage.service.accepts == ["article.parsed"])
        #expect(stage.service.emits == ["article.enriched"])
        let names = Set(stage.service.options.map(\.name))
        #expect(names.isSuperset(of: ["max_keywords", "min_language_confidence", "summary_max_characters"]))
        #expect(stage.service.options.allSatisfy { !$0.help.isEmpty && $0.default != nil })
        // The protocol allows these option types only.
        #expect(stage.service.options.allSatisfy { ["integer", "string", "boolean"].contains($0.type) })
    }

    @Test func matchesItsPublishedServiceDefinition() throws {
        // Protocol/services/enrich.json is what `describe` promises and the supervisor checks.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let data = try Data(contentsOf: root.appendingPathComponent("Protocol/services/enrich.json"))
        let published = try JSONDecoder().decode(ServiceDefinition.self, from: data)
        #expect(published == (try EnrichStage()).service)
    }

    @Test func enrichesAParsedArticle() async throws {
        let article = try Fixture.natoArticle()
        let input = Envelope(type: "article.parsed", body: try RawJSON(encoding: article))
        let outputs = try await EnrichStage().handle(input)
        #expect(outputs.count == 1)
        let output = try #require(outputs.first)
        #expect(output.type == "article.enriched")
        let enriched = try output.body.decode(ArticleEnriched.self)
        #expect(enriched.article == article)
        #expect(enriched.language.code == "vi")
        // Flat: the parsed fields and the enrichment fields side by side in one object.
        let object = try output.body.decode([String: JSONValue].self)
        for key in ["url", "title", "text", "lang", "language", "entities", "quotes", "keywords", "summary",
                    "word_count", "reading_time_s", "simhash", "content_hash"] {
            #expect(object[key] != nil, "missing \(key)")
        }
    }

    @Test func handlesABatchInOrder() async throws {
        let vi = try Fixture.natoArticle()
        let en = try Fixture.article("article.en.nato-mission.txt")
        let batch = try [vi, en].map { Envelope(type: "article.parsed", body: try RawJSON(encoding: $0)) }
        let outcomes = await try EnrichStage().handle(batch: batch)
        let codes = try outcomes.map { outcome -> String in
            guard case .emit(let emissions) = outcome, let first = emissions.first else {
                Issue.record("expected an emission, got \(outcome)")
                return ""
            }
            return try first.body.decode(ArticleEnriched.self).language.code
        }
        #expect(codes == ["vi", "en"])
    }

    @Test func rejectsAnotherType() async throws {
        let input = Envelope(type: "page.fetched", body: .emptyObject)
        await #expect {
            try await EnrichStage().handle(input)
        } throws: { error in
            let error = error as? RunnelError
            return error?.code == .failedPrecondition && error?.message.contains("article.parsed") == true
        }
    }

    @Test func rejectsABodyThatIsNoArticle() async throws {
        let input = Envelope(type: "article.parsed", body: try RawJSON(#"{"url":"https://example.com/","title":"x"}"#))
        let outcomes = await try EnrichStage().handle(batch: [input])
        guard case .fail(let error) = outcomes.first else {
            Issue.record("expected a failure")
            return
        }
        #expect(error.code == .invalidArgument)
        #expect(!error.code.isRetryable)
        #expect(error.message.contains("body.text"))
    }

    @Test func rejectsBadOptions() {
        #expect(throws: RunnelError.self) { try EnrichStage(options: EnrichOptions(minLanguageConfidence: 1.5)) }
        #expect(throws: RunnelError.self) { try EnrichStage(options: EnrichOptions(maxKeywords: -1)) }
    }

    @Test("the hand-written article.enriched body is byte for byte what RawJSON(encoding:) writes")
    func bodyAsTheEncoderWritesIt() throws {
        var article = try Fixture.natoArticle()
        article.byline = "Minh \"Anh\""
        article.leadImage = "https://a.example/i.jpg"
        article.images = [.init(src: "https://a.example/i.jpg", caption: "cap"), .init(src: "https://a.example/j.jpg")]
        article.related = [.init(title: "R1", url: "https://a.example/r1")]
        let enriched = Enricher(options: EnrichOptions()).enrich(article)
        #expect(!enriched.entities.isEmpty && !enriched.quotes.isEmpty)
        #expect(enriched.jsonBody?.bytes == (try RawJSON(encoding: enriched)).bytes)
        var unsure = enriched
        unsure.language.confidence = .nan
        #expect(unsure.jsonBody == nil)  // left to the encoder, which refuses it
    }

    @Test func optionsLimitTheLists() throws {
        let options = EnrichOptions(maxKeywords: 2, maxEntities: 3, maxQuotes: 1)
        let enriched = Enricher(options: options).enrich(try Fixture.natoArticle())
        #expect(enriched.keywords.count == 2)
        #expect(enriched.entities.count == 3)
        #expect(enriched.quotes.count == 1)
        // The most mentioned first.
        #expect(enriched.entities.map(\.count) == enriched.entities.map(\.count).sorted(by: >))
    }
}

/// The stage under the project's runner semantics, in-process (RunnelTesting's InMemoryRunner).
@Suite struct EnrichRunnerTests {
    @Test func lineageAndErrorRecordsUnderTheRunner() async throws {
        let article = Envelope(
            id: "a1", type: "article.parsed", trace: "t1", meta: ["source": "seed"],
            body: try RawJSON(encoding: try Fixture.natoArticle()))
        let broken = Envelope(id: "b1", type: "article.parsed", body: try RawJSON(#"{"url":"x"}"#))
        let result = await InMemoryRunner(stage: try EnrichStage()).run([article, broken])
        #expect(result.acked == ["a1", "b1"])
        #expect(result.retries == 0)
        let outputs = result.outputs(of: article)
        #expect(outputs.map(\.type) == ["article.enriched"])
        #expect(outputs.first?.trace == "t1")
        #expect(outputs.first?.meta == ["source": "seed"])
        // The broken body is not retried (INVALID_ARGUMENT) and becomes an error record.
        let errors = (result.outputs + result.deadLetters).filter { $0.type == MessageType.error }
        #expect(errors.count == 1)
        #expect(errors.first?.body.description.contains("INVALID_ARGUMENT") == true)
    }
}
