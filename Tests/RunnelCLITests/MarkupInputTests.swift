import Foundation
import Testing

/// Someone new runs `runnel parse < page.html`: every line of the page is refused on its own, and
/// what to run instead is said last, under those warnings.
@Suite("A page given where messages are read")
struct MarkupInputTests {
    @Test("an HTML file on a stage's stdin: each line an error record, then one hint that names fetch")
    func htmlOnStdin() async throws {
        let html = "<!DOCTYPE html>\n<html><head><title>Tin</title></head>\n<body><p>Bài viết.</p></body></html>\n"
        let result = try await RunnelProcess.run(["parse"], stdin: Data(html.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        // Nothing is dropped silently: one error record per line.
        #expect(result.stdoutLines.count == 3)
        #expect(result.stdoutLines.allSatisfy { $0.contains(#""type":"error""#) && $0.contains("INVALID_ARGUMENT") })
        let last = try #require(result.stderrLines.last)
        #expect(last.contains("line 1 is markup, not a JSON line"), "\(result.stderr)")
        #expect(last.contains("runnel fetch --allow-files . | runnel parse"), "\(result.stderr)")

        let messages = try await RunnelProcess.run(["parse"], stdin: Data("{nope\n".utf8))
        #expect(!messages.stderr.contains("is markup"), "a broken JSON line is not markup: \(messages.stderr)")
    }
}
