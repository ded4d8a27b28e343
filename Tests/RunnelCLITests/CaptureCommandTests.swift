import Foundation
import Testing

/// Capture logs through the real binary: `runnel cat --tee`, `--capture-out` on a stage,
/// `runnel log check|stats`, and `capture = […]` in a pipeline file.
@Suite("Capture logs (runnel)", .serialized)
struct CaptureCommandTests {
    /// The numbered files of a log, in order.
    static func files(_ dir: URL, _ stem: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path)
            .filter { $0.hasPrefix(stem + ".") && $0.hasSuffix(".jsonl.zst") }.sorted()
            .map { dir.appendingPathComponent($0).path }
    }

    /// Each line's id, type and body, for comparing messages whatever their spelling.
    static func canonical(_ lines: [String]) -> [NSDictionary] {
        lines.map { line in
            let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] ?? [:]
            return ["id": object["id"] ?? "", "type": object["type"] ?? "", "body": object["body"] ?? ""] as NSDictionary
        }
    }

    /// `zstd -dc FILES` (the zstd CLI, as `zstdcat LOG | jq` would read it).
    static func zstdcat(_ files: [String]) async throws -> [String] {
        let result = try await RunnelProcess.exec("/usr/bin/env", ["zstd", "-dcq"] + files)
        #expect(result.status == 0, "\(result.stderr)")
        return result.stdoutLines
    }

    @Test("cat --tee passes lines through unchanged and writes the same lines to a rotated log")
    func teeRoundTrip() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = messages(3000)
        let log = dir.appendingPathComponent("tee.jsonl.zst").path
        let tee = try await RunnelProcess.run(["cat", "--tee", log, "--capture-max-bytes", "2KiB"], stdin: data(lines))
        #expect(tee.status == 0, "\(tee.stderr)")
        #expect(tee.stdoutLines == lines)
        let files = try Self.files(dir, "tee")
        #expect(files.count >= 2, "rotated at 2 KiB: \(files)")
        await #expect(try Self.zstdcat(files) == lines)
        let back = try await RunnelProcess.run(["cat", log])
        #expect(back.status == 0, "\(back.stderr)")
        #expect(back.stdoutLines == lines)
        let check = try await RunnelProcess.run(["log", "check", log])
        #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
        #expect(check.stdoutLines.count == files.count)
        #expect(check.stdoutLines.allSatisfy { $0.contains(": ok, ") }, "\(check.stdoutText)")
        let index = try String(contentsOfFile: dir.appendingPathComponent("tee.index.jsonl").path, encoding: .utf8)
        let counts = index.split(separator: "\n").compactMap {
            (try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])?["count"] as? Int
        }
        #expect(counts.count == files.count && counts.reduce(0, +) == 3000, "\(index)")
    }

    @Test("log stats counts types and sizes; log check finds a torn tail and a corrupt frame at their offsets")
    func checkAndStats() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = messages(400).enumerated().map { i, line in
            line.replacingOccurrences(of: #""type""#, with: #""ts":"2026-11-29T13:00:\#(String(format: "%02d", i / 10)).000Z","type""#)
        }
        let log = dir.appendingPathComponent("s.jsonl.zst").path
        // Chunks of stdin make frames; a pipe from the shell feeds it in pieces.
        let tee = try await RunnelProcess.run(["cat", "--tee", log], stdin: data(lines))
        #expect(tee.status == 0, "\(tee.stderr)")
        let stats = try await RunnelProcess.run(["log", "stats", "--json", log])
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try JSONSerialization.jsonObject(with: stats.stdout) as! [String: Any]
        #expect(object["messages"] as? Int == 400)
        #expect((object["types"] as? [String: Int]) == ["url.requested": 200, "page.fetched": 200])
        #expect(object["first_ts"] as? String == "2026-11-29T13:00:00.000Z")
        #expect(object["last_ts"] as? String == "2026-11-29T13:00:39.000Z")
        let sizes = object["line_bytes"] as! [String: Any]
        let lengths = lines.map(\.utf8.count)
        #expect(sizes["min"] as? Int == lengths.min() && sizes["max"] as? Int == lengths.max())
        #expect(object["uncompressed_bytes"] as? Int == lengths.reduce(0, +) + lines.count)
        let text = try await RunnelProcess.run(["log", "stats", log])
        #expect(text.stdoutText.contains("page.fetched: 200"), "\(text.stdoutText)")

        // Append a second file, then tear it: check reports the torn frame's start.
        let more = try await RunnelProcess.run(["cat", "--tee", log], stdin: data(lines))
        #expect(more.status == 0)
        let files = try Self.files(dir, "s")
        #expect(files.count == 2)
        let second = try Data(contentsOf: URL(fileURLWithPath: files[1]))
        try second.prefix(second.count - 7).write(to: URL(fileURLWithPath: files[1]))
        let torn = try await RunnelProcess.run(["log", "check", log])
        #expect(torn.status == 65)
        #expect(torn.stdoutLines.first?.hasSuffix(": ok, 400 messages, 0 control lines") == true, "\(torn.stdoutText)")
        #expect(torn.stdoutText.contains("\(files[1]): byte "), "\(torn.stdoutText)")
        #expect(torn.stdoutText.contains(": DATA_LOSS: torn tail"), "\(torn.stdoutText)")
        // Reading still gives every whole frame, with a warning on stderr.
        let stats2 = try await RunnelProcess.run(["log", "stats", "--json", log])
        #expect(stats2.stderr.contains("torn tail"), "\(stats2.stderr)")

        // A flipped byte inside the first file's data.
        var first = try Data(contentsOf: URL(fileURLWithPath: files[0]))
        first[first.count / 2] ^= 0x55
        try first.write(to: URL(fileURLWithPath: files[0]))
        let corrupt = try await RunnelProcess.run(["log", "check", files[0]])
        #expect(corrupt.status == 65)
        #expect(corrupt.stdoutText.contains(": DATA_LOSS: "), "\(corrupt.stdoutText)")
        #expect(corrupt.stdoutText.contains("\(files[0]): byte "), "\(corrupt.stdoutText)")
    }

    @Test("a stage whose capture hits a full disk keeps processing and says capture stopped")
    func stageKeepsGoingOnDiskFull() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        #expect(symlink("/dev/full", dir.appendingPathComponent("out.000001.jsonl.zst").path) == 0)
        let lines = messages(500)
        let relay = try await RunnelProcess.run(
            ["relay", "--capture-out", dir.appendingPathComponent("out.jsonl.zst").path, "--batch", "16"], stdin: data(lines))
        #expect(relay.status == 0, "\(relay.stderr)")
        #expect(relay.stdoutLines.count == 500, "every message went through")
        #expect(relay.stderr.contains("capture of outputs to"), "\(relay.stderr)")
        #expect(relay.stderr.contains("stopped: disk full"), "\(relay.stderr)")
    }

    @Test("a capture whose file hits its size limit mid-frame is cut back to whole frames: the log reads clean")
    func writeCutShort() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        // Bodies that do not compress, 2 KiB each: a batch of 16 is a ~32 KiB frame, and the file
        // limit (ulimit -f, with SIGXFSZ ignored so that the write fails with EFBIG instead of
        // killing the process) falls inside one of them.
        var generator = SystemRandomNumberGenerator()
        let lines = (0..<2000).map { i -> String in
            let blob = Data((0..<1536).map { _ in UInt8.random(in: 0...255, using: &generator) }).base64EncodedString()
            return #"{"id":"m\#(i)","type":"test.blob","ts":"2026-01-01T00:00:00Z","attempt":1,"body":{"blob":"\#(blob)"}}"#
        }
        let log = dir.appendingPathComponent("out.jsonl.zst").path
        let relay = try await RunnelProcess.shell(
            "trap '' XFSZ; ulimit -f 1000; exec \"$RUNNEL\" relay --capture-out '\(log)' --batch 16", stdin: data(lines))
        #expect(relay.status == 0, "the stage goes on: \(relay.stderr)")
        #expect(relay.stdoutLines.count == 2000)
        #expect(relay.stderr.contains("stopped: write error"), "\(relay.stderr)")
        let read = try await RunnelProcess.run(["cat", log])
        #expect(read.status == 0, "no torn frame at the end: \(read.stderr)")
        #expect(!read.stderr.contains("DATA_LOSS"), "\(read.stderr)")
        let kept = read.stdoutLines.count
        #expect(kept > 0 && kept < 2000, "the frames written before the limit: \(kept)")
    }

    @Test("--capture-in and --capture-out on a stage record its inputs as received and outputs as sent")
    func stageCapture() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = messages(300)
        let input = dir.appendingPathComponent("in.jsonl.zst").path
        let output = dir.appendingPathComponent("out.jsonl.zst").path
        let relay = try await RunnelProcess.run(["relay", "--capture-in", input, "--capture-out", output], stdin: data(lines))
        #expect(relay.status == 0, "\(relay.stderr)")
        // Inputs are captured as decoded, written in the canonical form (defaults such as
        // "attempt":1 spelled out): the same messages, not necessarily the same bytes.
        await #expect(Self.canonical(try Self.zstdcat(try Self.files(dir, "in"))) == Self.canonical(lines))
        await #expect(try Self.zstdcat(try Self.files(dir, "out")) == relay.stdoutLines)
    }
}

@Suite("Capture in pipeline files", .serialized)
struct CapturePipelineTests {
    /// A pipeline over `pages` test pages, with `capture` as its first line.
    static func pipeline(_ name: String, pages: Int, capture: String, stages: String, in dir: URL) throws -> URL {
        let file = try SupervisorTests.pipeline(name, pages: pages, stages: stages, in: dir)
        let text = try String(contentsOf: file, encoding: .utf8)
        try (capture + "\n\n" + text).write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    static let news = """
        [[stage]]
        name = "fetch"
        args = ["--allow-files", "pages", "--delay", "0s"]

        [[stage]]
        name = "parse"

        [[stage]]
        name = "enrich"

        [[stage]]
        name = "store"
        args = ["--db", "news.sqlite"]
        """

    @Test("capture = [\"parse->enrich\"] records the link during a run; log check, stats and zstd agree", .timeLimit(.minutes(2)))
    func newsPipeline() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("capture")
        let file = try Self.pipeline(name, pages: 40, capture: #"capture = ["parse->enrich"]"#, stages: Self.news, in: dir)
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        #expect(await run.wait(timeout: .seconds(90)) == 0, "\(run.stderr)")
        let captureDir = dir.appendingPathComponent(".runnel/\(name)/capture")
        let log = captureDir.appendingPathComponent("parse-enrich.jsonl.zst").path
        let files = try CaptureCommandTests.files(captureDir, "parse-enrich")
        #expect(files.count == 1, "\(files)")

        let check = try await RunnelProcess.run(["log", "check", log])
        #expect(check.status == 0, "\(check.stdoutText)\(check.stderr)")
        let stats = try await RunnelProcess.run(["log", "stats", "--json", log])
        #expect(stats.status == 0, "\(stats.stderr)")
        let object = try JSONSerialization.jsonObject(with: stats.stdout) as! [String: Any]
        #expect((object["types"] as? [String: Int]) == ["article.parsed": 40], "\(stats.stdoutText)")

        let plain = try await CaptureCommandTests.zstdcat(files)
        let cat = try await RunnelProcess.run(["cat", log])
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(plain.count == 40 && cat.stdoutLines == plain)
        let urls = Set(plain.compactMap { line -> String? in
            let message = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            return (message?["body"] as? [String: Any])?["url"] as? String
        })
        #expect(urls.count == 40, "one article per page")
    }

    @Test("a pipeline that does not end in a store: run says its outputs are kept nowhere, and capture = [\"fetch->output\"] keeps them", .timeLimit(.minutes(2)))
    func lastStageOutput() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("output")
        let stages = """
            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--delay", "0s"]
            """
        let file = try Self.pipeline(name, pages: 12, capture: "", stages: stages, in: dir)
        let check = try await RunnelProcess.run(["check", file.path], in: dir)
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stderr.contains("the last stage, fetch, emits page.fetched: runnel run counts its outputs and keeps none of them"), "\(check.stderr)")
        #expect(check.stderr.contains(#"capture = ["fetch->output"]"#), "\(check.stderr)")
        // A run says it once it is done, after its summary (a reader of its first line is not
        // told it first).
        let unkept = try await RunnelProcess.run(["run", file.path, "--no-progress"], in: dir)
        #expect(unkept.status == 0, "\(unkept.stderr)")
        let lines = unkept.stderr.split(separator: "\n")
        #expect(lines.last?.contains("keeps none of them") == true, "\(unkept.stderr)")
        #expect(lines.dropLast().last?.contains("12 outputs") == true, "\(unkept.stderr)")
        try FileManager.default.removeItem(at: dir.appendingPathComponent(".runnel/\(name)/cursor"))

        let text = try String(contentsOf: file, encoding: .utf8)
        try (#"capture = ["fetch->output"]"# + "\n" + text).write(to: file, atomically: true, encoding: .utf8)
        let run = try await RunnelProcess.run(["run", file.path, "--no-progress"], in: dir)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stderr.contains("keeps none of them"), "\(run.stderr)")
        let log = dir.appendingPathComponent(".runnel/\(name)/capture/fetch-output.jsonl.zst").path
        let cat = try await RunnelProcess.run(["cat", log, "--type", "page.fetched"])
        #expect(cat.status == 0, "\(cat.stderr)")
        #expect(cat.stdoutLines.count == 12, "\(cat.stdoutText.prefix(300))")
    }

    @Test(
        "the parse → enrich link captured in a run of the news pipeline, replayed into a fresh enrich: the same outputs as captured",
        .timeLimit(.minutes(2)))
    func capturedLinkReplaysIdentically() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("replay")
        let file = try Self.pipeline(
            name, pages: 40, capture: #"capture = ["parse->enrich", "enrich->store"]"#, stages: Self.news, in: dir)
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        #expect(await run.wait(timeout: .seconds(90)) == 0, "\(run.stderr)")
        let captureDir = dir.appendingPathComponent(".runnel/\(name)/capture")
        let inputs = captureDir.appendingPathComponent("parse-enrich.jsonl.zst").path
        let outputs = captureDir.appendingPathComponent("enrich-store.jsonl.zst").path

        let sock = dir.appendingPathComponent("s/enrich.sock").path
        let enrich = try BackgroundProcess(["enrich", "--listen", "unix:\(sock)"], in: dir, name: "enrich")
        #expect(await eventually { FileManager.default.fileExists(atPath: sock) })
        let replay = try await RunnelProcess.run(["replay", inputs, "--to", "unix:\(sock)", "--compare", outputs], in: dir)
        #expect(replay.status == 0, "\(replay.stdoutText)\(replay.stderr)")
        #expect(replay.stdoutText.hasPrefix("40 inputs: 40 identical, 0 changed"), "\(replay.stdoutText)")
        enrich.signal(SIGTERM)
        #expect(await enrich.wait(timeout: .seconds(20)) == 0)
    }

    @Test("runnel status shows each captured link: file, messages, bytes", .timeLimit(.minutes(2)))
    func statusShowsCapture() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("capstatus")
        let stages = """
            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--delay", "0s", "--window", "8"]

            [[stage]]
            name = "relay"
            args = ["--delay", "15ms", "--window", "8", "--batch", "4"]
            """
        let file = try Self.pipeline(name, pages: 300, capture: #"capture = ["fetch->relay"]"#, stages: stages, in: dir)
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        var shown = ""
        let seen = await eventually(timeout: .seconds(30)) {
            shown = (try? await RunnelProcess.run(["status", "--name", name]).stdoutText) ?? ""
            return shown.contains("capture fetch (out): ") && !shown.contains(": 0 messages")
        }
        #expect(seen, "\(shown)")
        #expect(shown.contains("fetch-relay.000001.jsonl.zst: "), "\(shown)")
        #expect(shown.range(of: #"[0-9]+ messages, [0-9.]+ (B|KiB|MiB)"#, options: .regularExpression) != nil, "\(shown)")
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.stderr)")
    }
}
