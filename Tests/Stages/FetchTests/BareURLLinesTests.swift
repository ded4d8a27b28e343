import Foundation
import RunnelProtocol
import RunnelStage
import RunnelTransport
import Testing

@testable import FetchStage

/// `runnel fetch < urls.txt`: bare URL lines become `url.requested` messages through the
/// runner's ``Stage/adopt(rawLine:)`` hook, beside ordinary JSON lines.
@Suite struct BareURLLinesTests {
    @Test func adoptTakesURLsOnly() async throws {
        let stage = FetchStage()
        let envelope = try #require(stage.adopt(rawLine: "  https://vov.vn/a.html \r"))
        #expect(envelope.type == MessageType.urlRequested)
        #expect(try envelope.body.decode(URLRequested.self).url == "https://vov.vn/a.html")
        #expect(stage.adopt(rawLine: "file:///tmp/a.html") != nil)
        #expect(stage.adopt(rawLine: "not a url") == nil)
        #expect(stage.adopt(rawLine: "{\"broken\": ") == nil)
        #expect(stage.adopt(rawLine: "ftp://x/y") == nil)
        await stage.shutdown()
    }

    @Test func filterRunnerReadsBareURLsAndMessages() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-bare-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("a.html")
        try Data("<p>Các tin bài khác</p>".utf8).write(to: page)
        let message = Envelope(
            type: MessageType.urlRequested, body: try RawJSON(encoding: URLRequested(url: page.absoluteString)))
        var messageLine: [UInt8] = []
        message.appendLine(to: &messageLine)
        let input = directory.appendingPathComponent("urls.txt").path
        let lines = Array("\(page.absoluteString)\nnot a url\n".utf8) + messageLine
        try Data(lines).write(to: URL(fileURLWithPath: input))
        let outputPath = directory.appendingPathComponent("out.jsonl").path

        let stage = FetchStage(configuration: FetchConfiguration(fileRoot: directory.path))
        let runner = try FilterRunner(
            stage: stage, input: try FileInput(path: input), output: try FileOutput(path: outputPath))
        let statistics = try await runner.run()
        await stage.shutdown()

        #expect(statistics.emitted == 2)
        let out = try String(contentsOfFile: outputPath, encoding: .utf8).split(separator: "\n")
        #expect(out.count == 3)
        var types: [String] = []
        for line in out {
            guard case let .data(envelope) = try WireLine(line: Array(line.utf8)) else { continue }
            types.append(envelope.type)
            if envelope.type == MessageType.pageFetched {
                #expect(try envelope.body.decode(PageFetched.self).html == "<p>Các tin bài khác</p>")
            }
        }
        #expect(types.sorted() == ["error", "page.fetched", "page.fetched"])
    }
}
