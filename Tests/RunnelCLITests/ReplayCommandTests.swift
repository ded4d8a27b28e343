import Foundation
import Testing

/// `runnel replay` with the real binary, into real stages over Unix sockets.
@Suite("runnel replay", .serialized)
struct ReplayCommandTests {
    /// `count` url.requested lines, `gapMs` apart in `ts`, with a `meta.n` of i % 3.
    static func log(_ count: Int, gapMs: Int, type: (Int) -> String = { _ in "url.requested" }) -> [String] {
        let start: Int64 = 1_795_000_000_000  // 2026-11-17
        return (0..<count).map { i in
            let ts = isoTime(start + Int64(i * gapMs))
            return #"{"id":"m\#(i)","type":"\#(type(i))","ts":"\#(ts)","meta":{"n":"\#(i % 3)"},"body":{"url":"https://example.vn/\#(i)"}}"#
        }
    }

    static func isoTime(_ millis: Int64) -> String {
        let date = Date(timeIntervalSince1970: Double(millis) / 1000)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        return formatter.string(from: date)
    }

    static func write(_ lines: [String], to url: URL) throws {
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// A `runnel recv` on a fresh socket, ready.
    static func receiver(in dir: URL) async throws -> (BackgroundProcess, String) {
        let sock = dir.appendingPathComponent("s").path
        let recv = try BackgroundProcess(["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/recv.sock") })
        return (recv, "\(sock)/recv.sock")
    }

    /// The elapsed seconds in replay's summary line.
    static func elapsed(_ stderr: String) -> Double? {
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix("runnel replay:") }),
            let range = line.range(of: #" in ([0-9.]+) s"#, options: .regularExpression)
        else { return nil }
        return Double(line[range].dropFirst(4).dropLast(2))
    }

    @Test("--speed 10 plays a log spanning 10 s in about 1 s; every message is acked", .timeLimit(.minutes(1)))
    func speedTen() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let log = dir.appendingPathComponent("log.jsonl")
        try Self.write(Self.log(21, gapMs: 500), to: log)  // 0 … 10 s
        let (recv, sock) = try await Self.receiver(in: dir)
        let start = ContinuousClock.now
        let result = try await RunnelProcess.run(["replay", log.path, "--to", "unix:\(sock)", "--speed", "10"])
        let wall = start.duration(to: .now)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("21 sent, 21 acked, 0 failed"), "\(result.stderr)")
        let reported = try #require(Self.elapsed(result.stderr), "\(result.stderr)")
        #expect(reported >= 0.95 && reported <= 3, "took \(reported) s")
        #expect(wall >= .milliseconds(950))
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(20))
        #expect(messageIDs(recv.stdout) == (0..<21).map { "m\($0)" }, "in order, each once")
    }

    @Test("--speed max is limited only by the stage: 2,000 messages an hour apart in seconds", .timeLimit(.minutes(1)))
    func speedMax() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let log = dir.appendingPathComponent("log.jsonl")
        try Self.write(Self.log(2000, gapMs: 3_600_000), to: log)
        let (recv, sock) = try await Self.receiver(in: dir)
        let result = try await RunnelProcess.run(["replay", log.path, "--to", "unix:\(sock)"])  // max is the default
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("2000 sent, 2000 acked, 0 failed"), "\(result.stderr)")
        let reported = try #require(Self.elapsed(result.stderr))
        #expect(reported < 20, "the paced replay would take 2,000 hours; this one took \(reported) s")
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(20))
        #expect(Set(messageIDs(recv.stdout)).count == 2000)
    }

    @Test("a stage SIGKILLed and restarted midway: every message acked, exit 0, all arrive", .timeLimit(.minutes(2)))
    func stageKilledMidway() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let log = dir.appendingPathComponent("log.jsonl")
        let total = 3000
        try Self.write(Self.log(total, gapMs: 10), to: log)
        let (recv, recvSock) = try await Self.receiver(in: dir)
        let relaySock = dir.appendingPathComponent("s/relay.sock").path
        let relayArguments = ["relay", "--listen", "unix:\(relaySock)", "--to", "unix:\(recvSock)", "--delay", "1ms", "--window", "64"]
        var relay = try BackgroundProcess(relayArguments, in: dir, name: "relay1")
        #expect(await eventually { FileManager.default.fileExists(atPath: relaySock) })
        let replay = try BackgroundProcess(["replay", log.path, "--to", "unix:\(relaySock)", "--no-progress"], in: dir, name: "replay")

        #expect(await eventually(timeout: .seconds(30)) { messageIDs(recv.stdout).count > 300 })
        relay.signal(SIGKILL)
        _ = await relay.wait()
        #expect(messageIDs(recv.stdout).count < total, "the kill came too late to test anything")
        relay = try BackgroundProcess(relayArguments, in: dir, name: "relay2")

        #expect(await replay.wait(timeout: .seconds(90)) == 0, "replay: \(replay.stderr)")
        #expect(replay.stderr.contains("\(total) sent, \(total) acked, 0 failed"), "\(replay.stderr)")
        for process in [relay, recv] { process.signal(SIGTERM) }
        for process in [relay, recv] { _ = await process.wait(timeout: .seconds(20)) }
        let received = Set(messageIDs(recv.stdout))
        let missing = (0..<total).filter { !received.contains("m\($0)") }
        #expect(missing.isEmpty, "missing \(missing.count), e.g. \(missing.prefix(5))")
    }

    @Test("--to - writes the selected lines unchanged; --type, --where, --since, --until and --limit select")
    func toStdout() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = Self.log(30, gapMs: 1000) { $0 % 2 == 0 ? "url.requested" : "page.fetched" }
        let log = dir.appendingPathComponent("log.jsonl")
        try Self.write(lines, to: log)
        // The same log compressed, as a capture would be.
        let zipped = try await RunnelProcess.run(["cat", "--zstd", log.path])
        try zipped.stdout.write(to: dir.appendingPathComponent("log.jsonl.zst"))

        let all = try await RunnelProcess.run(["replay", "log.jsonl.zst", "--to", "-"], in: dir)
        #expect(all.status == 0, "\(all.stderr)")
        #expect(all.stdoutLines == lines)
        #expect(all.stderr.contains("30 sent, 30 written"), "\(all.stderr)")

        let since = Self.isoTime(1_795_000_000_000 + 4_000)
        let until = Self.isoTime(1_795_000_000_000 + 20_000)
        let some = try await RunnelProcess.run(
            ["replay", "log.jsonl.zst", "--to", "-", "--type", "url.requested", "--where", "meta.n=0", "--since", since, "--until", until],
            in: dir)
        #expect(some.status == 0, "\(some.stderr)")
        // Even i in 4 ..< 20 with i % 3 == 0: 6, 12, 18.
        #expect(some.stdoutLines == [lines[6], lines[12], lines[18]])

        let limited = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--type", "page.fetched", "--limit", "2", "--zstd"], in: dir)
        let decoded = try await RunnelProcess.run(["cat"], stdin: limited.stdout)
        #expect(decoded.stdoutLines == [lines[1], lines[3]])

        let url = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--where", "body.url=https://example.vn/7"], in: dir)
        #expect(url.stdoutLines == [lines[7]])

        // 29 one-second gaps at the original pace, each cut to 10 ms: the same lines, not 29 s.
        let started = ContinuousClock.now
        let capped = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--speed", "1", "--max-gap", "10ms"], in: dir)
        #expect(capped.status == 0, "\(capped.stderr)")
        #expect(capped.stdoutLines == lines)
        #expect(started.duration(to: .now) < .seconds(20), "the gaps were cut to 10 ms")

        let bad = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--since", "yesterday"], in: dir)
        #expect(bad.status == 64)
        #expect(bad.stderr.contains("INVALID_ARGUMENT") && bad.stderr.contains("RFC 3339"), "\(bad.stderr)")
        let none = try await RunnelProcess.run(["replay", "nothing.jsonl", "--to", "-"], in: dir)
        #expect(none.status == 74)
        #expect(none.stderr.contains("NOT_FOUND"), "\(none.stderr)")
    }

    /// page.fetched lines for `count` small articles.
    static func pages(_ count: Int) -> [String] {
        (0..<count).map { i in
            let html = "<html><head><title>Tin \(i)</title></head><body><article><h1>Tin số \(i)</h1><p>Phái bộ ngoại giao \(i) của NATO tại Moskva đã bị đình chỉ hoạt động, theo thông báo chính thức.</p></article></body></html>"
            let body: [String: Any] = ["url": "https://example.vn/tin-\(i).html", "status": 200, "content_type": "text/html", "html": html]
            let envelope: [String: Any] = ["id": "p\(i)", "type": "page.fetched", "ts": "2026-11-29T13:00:0\(i % 10).000Z", "body": body]
            let data = try! JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .withoutEscapingSlashes])
            return String(decoding: data, as: UTF8.self)
        }
    }

    @Test("--compare: identical for an unchanged stage; a changed output is counted and shown by field", .timeLimit(.minutes(1)))
    func compare() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("fetched.jsonl")
        try Self.write(Self.pages(12), to: input)
        // What parse made of them the first time: the captured outputs.
        let first = try await RunnelProcess.run(["parse", "--listen", "file:\(input.path)"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdoutLines.count == 12)
        let captured = dir.appendingPathComponent("parsed.jsonl")
        try first.stdout.write(to: captured)

        let sock = dir.appendingPathComponent("s/parse.sock").path
        let parse = try BackgroundProcess(["parse", "--listen", "unix:\(sock)"], in: dir, name: "parse")
        #expect(await eventually { FileManager.default.fileExists(atPath: sock) })

        let same = try await RunnelProcess.run(["replay", input.path, "--to", "unix:\(sock)", "--compare", captured.path])
        #expect(same.status == 0, "\(same.stdoutText)\(same.stderr)")
        #expect(same.stdoutText.hasPrefix("12 inputs: 12 identical, 0 changed (0 outputs missing, 0 extra)"), "\(same.stdoutText)")

        // Yesterday's parse gave another title for one page, and nothing for another.
        var edited = first.stdoutLines
        var third = try #require(try JSONSerialization.jsonObject(with: Data(edited[3].utf8)) as? [String: Any])
        var body = try #require(third["body"] as? [String: Any])
        let title = try #require(body["title"] as? String)
        body["title"] = "Old title"
        third["body"] = body
        edited[3] = String(decoding: try JSONSerialization.data(withJSONObject: third, options: [.withoutEscapingSlashes]), as: UTF8.self)
        edited.remove(at: 7)
        try Self.write(edited, to: captured)
        let changed = try await RunnelProcess.run(["replay", input.path, "--to", "unix:\(sock)", "--compare", captured.path])
        #expect(changed.status == 1, "\(changed.stdoutText)\(changed.stderr)")
        #expect(changed.stdoutText.hasPrefix("12 inputs: 10 identical, 2 changed (0 outputs missing, 1 extra)"), "\(changed.stdoutText)")
        #expect(changed.stdoutText.contains(#"body.title: "Old title" → "\#(title)""#), "\(changed.stdoutText)")
        parse.signal(SIGTERM)
        #expect(await parse.wait(timeout: .seconds(20)) == 0)
    }

    @Test("the parse → enrich link of the example pipeline, captured and replayed into a fresh enrich: identical outputs", .timeLimit(.minutes(2)))
    func examplePipelineRegression() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        // The example pages, and more like them.
        let examples = RunnelProcess.packageRoot.appendingPathComponent("Examples/pages")
        let pages = dir.appendingPathComponent("pages")
        try FileManager.default.copyItem(at: examples, to: pages)
        var urls = try FileManager.default.contentsOfDirectory(atPath: pages.path)
            .filter { $0.hasSuffix(".html") || $0.hasSuffix(".txt") }.map { "file://" + pages.path + "/" + $0 }
        for i in 0..<20 {
            let page = pages.appendingPathComponent("tin-\(i).html")
            let html = "<html lang=\"vi\"><head><title>Tin \(i)</title></head><body><article><h1>Bộ Ngoại giao Nga thông báo \(i)</h1><p>Người phát ngôn NATO Oana Lungescu nói: \"Chúng tôi lấy làm tiếc về quyết định \(i) của Nga\".</p><p>Phái bộ ngoại giao tại Moskva sẽ ngừng hoạt động từ ngày 1/11.</p></article></body></html>"
            try html.write(to: page, atomically: true, encoding: .utf8)
            urls.append("file://" + page.path)
        }
        try (urls.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        // The example pipeline as a pipe, its parse → enrich and enrich → store links captured.
        let run = try await RunnelProcess.shell(
            #"set -e; "$RUNNEL" fetch --delay 0s --allow-files pages < urls.txt | "$RUNNEL" parse | tee parsed.jsonl | "$RUNNEL" enrich | tee enriched.jsonl | "$RUNNEL" store --db news.sqlite > stored.jsonl"#,
            in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        let parsed = try String(contentsOf: dir.appendingPathComponent("parsed.jsonl"), encoding: .utf8).split(separator: "\n")
        #expect(parsed.count == urls.count)

        let sock = dir.appendingPathComponent("s/enrich.sock").path
        let enrich = try BackgroundProcess(["enrich", "--listen", "unix:\(sock)"], in: dir, name: "enrich")
        #expect(await eventually { FileManager.default.fileExists(atPath: sock) })
        let replay = try await RunnelProcess.run(["replay", "parsed.jsonl", "--to", "unix:\(sock)", "--compare", "enriched.jsonl"], in: dir)
        #expect(replay.status == 0, "\(replay.stdoutText)\(replay.stderr)")
        #expect(replay.stdoutText.hasPrefix("\(urls.count) inputs: \(urls.count) identical, 0 changed"), "\(replay.stdoutText)")
        enrich.signal(SIGTERM)
        #expect(await enrich.wait(timeout: .seconds(20)) == 0)
    }
}
