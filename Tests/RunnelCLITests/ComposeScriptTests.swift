import Foundation
import Testing

/// The shell compositions in Scripts/compose, run as a user would, on the example pages.
@Suite("Shell compositions (Scripts/compose)", .serialized)
struct ComposeScriptTests {
    static func script(_ name: String) -> String {
        RunnelProcess.packageRoot.appendingPathComponent("Scripts/compose/\(name)").path
    }

    /// A directory with urls.txt listing the example pages.
    static func setUp() throws -> (URL, Int) {
        let dir = try RunnelProcess.temporaryDirectory()
        let pages = RunnelProcess.packageRoot.appendingPathComponent("Examples/pages")
        let urls = try FileManager.default.contentsOfDirectory(atPath: pages.path)
            .filter { $0.hasSuffix(".html") || $0.hasSuffix(".txt") }.sorted().map { "file://" + pages.path + "/" + $0 }
        try (urls.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        return (dir, urls.count)
    }

    static func run(_ script: String, _ arguments: [String], in dir: URL, environment: [String: String] = [:]) async throws -> RunnelProcess.Result {
        var env = ["RUNNEL": RunnelProcess.runnel, "FETCH_ARGS": "--delay 0s --allow-files \(RunnelProcess.packageRoot.appendingPathComponent("Examples/pages").path)"]
        env.merge(environment) { $1 }
        return try await RunnelProcess.exec("/bin/sh", [Self.script(script)] + arguments, in: dir, environment: env)
    }

    static func stored(_ result: RunnelProcess.Result) -> [String] {
        result.stdoutLines.filter { $0.contains(#""type":"article.stored""#) }
    }

    @Test("crawl, capture, replay into one stage, and a stage behind a remote shell", .timeLimit(.minutes(3)))
    func compositions() async throws {
        let (dir, count) = try Self.setUp()
        let crawl = try await Self.run("crawl.sh", ["urls.txt", "a.sqlite"], in: dir)
        #expect(crawl.status == 0, "\(crawl.stderr)")
        let articles = Self.stored(crawl).count
        #expect(articles > 0 && articles <= count, "\(crawl.stdoutText)")

        let capture = try await Self.run("capture.sh", ["urls.txt", "b.sqlite", "parsed.jsonl.zst", "enriched.jsonl.zst"], in: dir)
        #expect(capture.status == 0, "\(capture.stderr)")
        #expect(Self.stored(capture).count == articles)
        let parsed = try await RunnelProcess.run(["cat", "parsed.jsonl.zst"], in: dir)
        #expect(parsed.status == 0, "\(parsed.stderr)")
        #expect(parsed.stdoutLines.count == count, "the log holds the link's messages")

        let replay = try await Self.run("replay.sh", ["parsed.jsonl.zst", "enriched.jsonl.zst"], in: dir)
        #expect(replay.status == 0, "\(replay.stdoutText)\(replay.stderr)")
        #expect(replay.stdoutText.contains("pipe: \(count) outputs"), "\(replay.stdoutText)")
        #expect(replay.stdoutText.contains("\(count) inputs: \(count) identical"), "\(replay.stdoutText)")

        // `ssh host` replaced by `sh -c`: the same command line, run here.
        let remote = try await Self.run("remote.sh", ["urls.txt", "c.sqlite"], in: dir, environment: ["REMOTE": "sh -c", "REMOTE_RUNNEL": RunnelProcess.runnel])
        #expect(remote.status == 0, "\(remote.stderr)")
        #expect(Self.stored(remote).count == articles)
        let search = try await RunnelProcess.run(["search", "--db", "c.sqlite", "phai bo ngoai giao"], in: dir)
        #expect(search.status == 0 && !search.stdoutText.isEmpty, "\(search.stderr)")
    }
}
