import Foundation
import Testing

/// `runnel enrich` as a user runs it: the real binary on stdin and stdout.
@Suite("runnel enrich")
struct EnrichCommandTests {
    static let article: String = {
        let url = RunnelProcess.packageRoot.appendingPathComponent(
            "Tests/RunnelCLITests/Fixtures/article.parsed.vi.nato-spokesperson.jsonl")
        return (try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .newlines) ?? ""
    }()

    func object(_ line: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
    }

    @Test("an article.parsed line becomes one article.enriched line, derived from it")
    func enrichesTheSeed() async throws {
        #expect(!Self.article.isEmpty)
        let result = try await RunnelProcess.run(["enrich"], stdin: data([Self.article]))
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 1)
        let line = try #require(result.stdoutLines.first)
        let message = try object(line)
        #expect(message["type"] as? String == "article.enriched")
        #expect(message["parent"] as? String == "a1")
        #expect(message["trace"] as? String == "t1")
        let body = try #require(message["body"] as? [String: Any])
        #expect(body["url"] as? String == "https://vov.vn/the-gioi/nato-nga.html")
        #expect((body["language"] as? [String: Any])?["code"] as? String == "vi")
        let quotes = try #require(body["quotes"] as? [[String: Any]])
        #expect(quotes.map { $0["speaker"] as? String } == ["Oana Lungescu", "Oana Lungescu"])
        #expect((body["simhash"] as? String)?.count == 16)
        #expect((body["content_hash"] as? String)?.count == 64)
        // What it writes is valid for `runnel validate`.
        let check = try await RunnelProcess.run(["validate"], stdin: result.stdout)
        #expect(check.status == 0, "\(check.stderr)")
    }

    @Test("options reach the stage")
    func options() async throws {
        let result = try await RunnelProcess.run(["enrich", "--max-keywords", "2", "--max-entities", "3"], stdin: data([Self.article]))
        #expect(result.status == 0)
        let line = try #require(result.stdoutLines.first)
        let message = try object(line)
        let body = try #require(message["body"] as? [String: Any])
        #expect((body["keywords"] as? [String])?.count == 2)
        #expect((body["entities"] as? [Any])?.count == 3)
    }

    @Test("a body that is no article becomes an error record and a line on stderr; the rest goes on")
    func badBody() async throws {
        let bad = #"{"id":"b1","type":"article.parsed","body":{"url":"https://example.com/"}}"#
        let result = try await RunnelProcess.run(["enrich"], stdin: data([bad, Self.article]))
        #expect(result.stdoutLines.count == 2)
        let error = try object(result.stdoutLines[0])
        #expect(error["type"] as? String == "error")
        let body = try #require(error["body"] as? [String: Any])
        #expect(body["status"] as? String == "INVALID_ARGUMENT")
        #expect((body["message"] as? String)?.contains("body.title") == true)
        let second = try object(result.stdoutLines[1])
        #expect(second["type"] as? String == "article.enriched")
        #expect(result.stderr.contains("INVALID_ARGUMENT"))
    }

    @Test("a bad option is refused before any input is read")
    func badOption() async throws {
        let result = try await RunnelProcess.run(["enrich", "--min-language-confidence", "2"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("--min-language-confidence) must be between 0 and 1"))
    }

    @Test("--help teaches what each field means")
    func help() async throws {
        let result = try await RunnelProcess.run(["enrich", "--help"])
        #expect(result.status == 0)
        for phrase in ["syllables", "simhash", "content_hash", "Người phát ngôn", "--max-keywords"] {
            #expect(result.stdoutText.contains(phrase), "missing \(phrase)")
        }
    }
}
