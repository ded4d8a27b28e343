import Foundation
import Testing

/// `runnel tap` on a pipeline run by the real supervisor.
@Suite("runnel tap", .serialized)
struct TapCommandTests {
    /// A pipeline fetch → relay whose source is its stdin, fed by `feeder` (a shell command), and
    /// `count` pages of about 1 KB for it.
    static func start(_ name: String, feeder: String, pages count: Int, in dir: URL) throws -> Process {
        let pages = dir.appendingPathComponent("pages")
        try FileManager.default.createDirectory(at: pages, withIntermediateDirectories: true)
        var urls = ""
        let filler = String(repeating: "Phái bộ ngoại giao của NATO. ", count: 30)
        for i in 0..<count {
            let page = pages.appendingPathComponent("p\(i).html")
            try "<html><head><title>Tin \(i)</title></head><body><h1>Tin \(i)</h1><p>\(filler)</p></body></html>"
                .write(to: page, atomically: true, encoding: .utf8)
            urls += "file://\(page.path)\n"
        }
        try urls.write(to: dir.appendingPathComponent("urls.txt"), atomically: true, encoding: .utf8)
        let pipeline = """
            [pipeline]
            name = "\(name)"
            shutdown_timeout = "10s"

            [source]
            urls = "-"

            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--delay", "0s"]

            [[stage]]
            name = "relay"
            """
        try pipeline.write(to: dir.appendingPathComponent("p.toml"), atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", #"(\#(feeder)) | "$RUNNEL" run p.toml --no-progress > run.out 2> run.err"#]
        process.currentDirectoryURL = dir
        process.environment = ProcessInfo.processInfo.environment.merging(["RUNNEL": RunnelProcess.runnel]) { $1 }
        try process.run()
        return process
    }

    static func tapSocketsReady(_ name: String) async -> Bool {
        let status = try? await RunnelProcess.run(["status", "--name", name, "--json"])
        return status?.stdoutText.contains(#""state" : "running""#) == true
    }

    /// The pipeline's outputs so far (the last stage's lines), from `runnel status`.
    static func outputs(_ name: String) async -> Int? {
        guard let status = try? await RunnelProcess.run(["status", "--name", name, "--json"]),
            let object = try? JSONSerialization.jsonObject(with: status.stdout) as? [String: Any]
        else { return nil }
        return object["outputs"] as? Int
    }

    /// Ends the feeder (it waits for a file `stop`) and the pipeline.
    static func stop(_ name: String, _ pipeline: Process, in dir: URL) async {
        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("stop").path, contents: nil)
        _ = try? await RunnelProcess.run(["stop", "--name", name])
        if await !exited(pipeline, timeout: .seconds(30)) { pipeline.terminate() }
    }

    @Test("tap prints what a running stage sends out, of one type, up to --limit", .timeLimit(.minutes(2)))
    func seesMessages() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("tap")
        // A source that goes on for a while: a URL every 20 ms.
        let pipeline = try Self.start(name, feeder: "while read u && [ ! -e stop ]; do echo $u; sleep 0.02; done < urls.txt", pages: 500, in: dir)
        #expect(
            await eventually(timeout: .seconds(60)) { await Self.tapSocketsReady(name) },
            "\((try? String(contentsOf: dir.appendingPathComponent("run.err"), encoding: .utf8)) ?? "")")
        let tap = try await RunnelProcess.run(["tap", "relay", "--outputs", "--type", "page.fetched", "--limit", "5", "--name", name])
        #expect(tap.status == 0, "\(tap.stderr)")
        #expect(tap.stdoutLines.count == 5, "\(tap.stdoutText)")
        for line in tap.stdoutLines {
            let message = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            #expect(message["type"] as? String == "page.fetched")
            #expect(((message["body"] as? [String: Any])?["url"] as? String)?.hasPrefix("file://") == true)
        }
        #expect(tap.stderr.contains("runnel tap: 5 messages from relay"), "\(tap.stderr)")

        let unknown = try await RunnelProcess.run(["tap", "nosuch", "--name", name])
        #expect(unknown.status == 64, "a stage name that is not in the pipeline is a usage error")
        #expect(unknown.stderr.contains("no stage named nosuch"), "\(unknown.stderr)")
        await Self.stop(name, pipeline, in: dir)
    }

    @Test("a tap that stops reading does not slow the pipeline: it drops for itself and says how many", .timeLimit(.minutes(2)))
    func slowTapDrops() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("slowtap")
        let total = 2000
        // The URLs flow once the file `go` exists; then the pipeline waits for more (stdin stays open).
        let pipeline = try Self.start(
            name, feeder: "while [ ! -e go ]; do sleep 0.05; done; cat urls.txt; while [ ! -e stop ]; do sleep 0.1; done", pages: total, in: dir)
        #expect(await eventually(timeout: .seconds(60)) { await Self.tapSocketsReady(name) })
        let tap = try BackgroundProcess(["tap", "relay", "--name", name], in: dir, name: "tap")
        #expect(await eventually(timeout: .seconds(10)) { tap.stderr.contains("tapping relay") }, "\(tap.stderr)")
        tap.signal(SIGSTOP)  // the slowest tap there is

        _ = FileManager.default.createFile(atPath: dir.appendingPathComponent("go").path, contents: nil)
        let finished = await eventually(timeout: .seconds(60)) { await Self.outputs(name) == total }
        #expect(finished, "every page went through end to end while the tap was stopped")

        tap.signal(SIGCONT)
        #expect(await eventually(timeout: .seconds(20)) { tap.stderr.contains("dropped so far") }, "\(tap.stderr)")
        await Self.stop(name, pipeline, in: dir)
        #expect(await tap.wait(timeout: .seconds(20)) == 0, "\(tap.stderr)")
        #expect(tap.stderr.contains("dropped because this tap read slower than the stage worked"), "\(tap.stderr)")
        let seen = tap.stdout.split(separator: "\n").count
        #expect(seen > 0 && seen < 2 * total, "the tap kept what fitted (\(seen) lines) and dropped the rest")
    }
}
