import Foundation
import Testing

/// `runnel fetch` as a user runs it: bare URL lines on stdin, page.fetched and error records on
/// stdout, one line per failure on stderr.
@Suite("runnel fetch")
struct FetchCommandTests {
    @Test("bare URL lines: pages out, failures as error records naming the URL, exit 0")
    func bareURLs() throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("page.html")
        try Data("<html><body><p>Phái bộ</p></body></html>".utf8).write(to: page)
        let missing = directory.appendingPathComponent("missing.html").absoluteString
        let input = [page.absoluteString, missing, "http://127.0.0.1:9/a.html"].joined(separator: "\n") + "\n"

        let result = try RunnelProcess.run(["fetch"], stdin: Data(input.utf8))
        #expect(result.status == 0)
        let bodies = try result.stdoutLines.map { line in
            try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
        #expect(bodies.count == 3)
        let fetched = bodies.filter { $0["type"] as? String == "page.fetched" }
        #expect(fetched.count == 1)
        let body = try #require(fetched.first?["body"] as? [String: Any])
        #expect(body["html"] as? String == "<html><body><p>Phái bộ</p></body></html>")
        #expect(body["charset"] as? String == "utf-8")
        let statuses = bodies.compactMap { ($0["body"] as? [String: Any])?["status"] as? String }.sorted()
        #expect(statuses == ["NOT_FOUND", "PERMISSION_DENIED"])
        #expect(result.stderr.contains("--allow-private"))
        #expect(result.stderr.contains(missing))
    }

    @Test("--help teaches with examples")
    func help() throws {
        let result = try RunnelProcess.run(["fetch", "--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("runnel fetch < urls.txt"))
        #expect(result.stdoutText.contains("--allow-private"))
    }
}
