import Foundation
import Testing

/// `runnel fetch` as a user runs it: bare URL lines on stdin, page.fetched and error records on
/// stdout, one line per failure on stderr.
@Suite("runnel fetch")
struct FetchCommandTests {
    @Test("bare URL lines: pages out, failures as error records naming the URL, exit 0")
    func bareURLs() async throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let page = directory.appendingPathComponent("page.html")
        try Data("<html><body><p>Phái bộ</p></body></html>".utf8).write(to: page)
        let missing = directory.appendingPathComponent("missing.html").absoluteString
        let input = [page.absoluteString, missing, "http://127.0.0.1:9/a.html"].joined(separator: "\n") + "\n"

        let result = try await RunnelProcess.run(["fetch", "--allow-files", directory.path], stdin: Data(input.utf8))
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

    @Test("a line that is no URL, or a URL with a space in it, is named for what it is, not as bad JSON; a broken message keeps the parser's words")
    func linesThatAreNoURL() async throws {
        let input = "https://example.vn/tin tức\nexample.vn/a\n{\"id\":\"x\"\n"
        let result = try await RunnelProcess.run(["fetch"], stdin: Data(input.utf8))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines.count == 3, "one error record a line: \(result.stdoutText)")
        #expect(result.stderr.contains(#"line 1: a URL cannot hold a space ("https://example.vn/tin tức"): percent-encode it (%20)"#), "\(result.stderr)")
        #expect(result.stderr.contains(#"line 2: neither a URL (http, https or file) nor a JSON message: "example.vn/a""#), "\(result.stderr)")
        #expect(result.stderr.contains("line 3: not valid JSON"), "\(result.stderr)")
    }

    @Test("--help teaches with examples")
    func help() async throws {
        let result = try await RunnelProcess.run(["fetch", "--help"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("runnel fetch < urls.txt"))
        #expect(result.stdoutText.contains("--allow-private"))
    }

    @Test("file:// URLs are refused without --allow-files, and confined to its directory with it; other schemes are INVALID_ARGUMENT")
    func fileURLsAreOptIn() async throws {
        let directory = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = directory.appendingPathComponent("pages")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try Data("<html><body><p>inside</p></body></html>".utf8).write(to: root.appendingPathComponent("in.html"))
        try Data("<html><body><p>SECRET</p></body></html>".utf8).write(to: directory.appendingPathComponent("secret.html"))
        try FileManager.default.createSymbolicLink(
            at: root.appendingPathComponent("link.html"), withDestinationURL: directory.appendingPathComponent("secret.html"))

        func statuses(_ arguments: [String], _ urls: [String]) async throws -> (RunnelProcess.Result, [String]) {
            let result = try await RunnelProcess.exec(
                RunnelProcess.runnel, ["fetch"] + arguments, stdin: Data((urls.joined(separator: "\n") + "\n").utf8),
                environment: ["RUNNEL_KEY": "hush-hush-key-0123456789"])
            let statuses = result.stdoutLines.map { line -> String in
                let message = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
                return message?["type"] as? String == "page.fetched" ? "fetched" : ((message?["body"] as? [String: Any])?["status"] as? String ?? "?")
            }
            #expect(!result.stdoutText.contains("hush-hush-key-0123456789") && !result.stderr.contains("hush-hush-key-0123456789"), "the key leaked")
            #expect(!result.stdoutText.contains("SECRET"), "a file outside the root was read")
            return (result, statuses)
        }

        let inside = "file://" + root.path + "/in.html"
        let (refused, refusedStatuses) = try await statuses([], [inside, "file:///proc/self/environ"])
        #expect(refused.status == 0, "\(refused.stderr)")
        #expect(refusedStatuses == ["PERMISSION_DENIED", "PERMISSION_DENIED"])
        #expect(refused.stderr.contains("--allow-files"), "\(refused.stderr)")

        let (_, confined) = try await statuses(
            ["--allow-files", root.path],
            [
                inside, "file://" + root.path + "/../secret.html", "file://" + root.path + "/%2e%2e/secret.html",
                "file://" + root.path + "/link.html", "file:///proc/self/environ", "file://" + root.path + "/none.html",
            ])
        #expect(confined == ["fetched", "PERMISSION_DENIED", "PERMISSION_DENIED", "PERMISSION_DENIED", "PERMISSION_DENIED", "NOT_FOUND"])

        let (_, schemes) = try await statuses(["--allow-files", root.path], ["ftp://example.com/a.html", "gopher://example.com/", "javascript:alert(1)"])
        #expect(schemes == ["INVALID_ARGUMENT", "INVALID_ARGUMENT", "INVALID_ARGUMENT"])

        let missingRoot = try await RunnelProcess.run(["fetch", "--allow-files", directory.path + "/nowhere"])
        #expect(missingRoot.status == 64)
        #expect(missingRoot.stderr.contains("no such directory"), "\(missingRoot.stderr)")
    }
}
