import Foundation
import Testing

/// `runnel run` with `links = "nats://…"`: the stages linked by JetStream work queues instead of
/// Unix sockets. They need a nats-server with JetStream; Scripts/test.sh starts one and exports
/// its URL as RUNNEL_TEST_NATS.
@Suite("Supervised pipelines over JetStream links", .serialized)
struct SupervisorNatsLinksTests {
    /// fetch → relay → parse → store over file:// pages; relay is slowed down a little, so the
    /// run is still going when a test acts on it.
    static func pipeline(_ name: String, pages: Int, nats: String, in dir: URL) throws -> URL {
        let stages = """
            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--delay", "0s"]

            [[stage]]
            name = "relay"
            args = ["--delay", "20ms", "--batch", "4"]

            [[stage]]
            name = "parse"

            [[stage]]
            name = "store"
            args = ["--db", "news.sqlite"]
            """
        return try SupervisorTests.pipeline(
            name, pages: pages, stages: stages, policy: "links = \"\(nats)?ack_wait=1s\"\nbackoff = { initial = \"10ms\", max = \"100ms\" }",
            in: dir)
    }

    @Test(
        "every page reaches the store through the JetStream queues, a stage killed mid-run included; the run ends when the queues are empty",
        .timeLimit(.minutes(3)))
    func everyPageIsStored() async throws {
        guard let nats = Self.natsServer() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("natslinks")
        let total = 80
        let file = try Self.pipeline(name, pages: total, nats: nats, in: dir)
        let check = try await RunnelProcess.run(["check", file.path])
        #expect(check.status == 0, "\(check.stderr)")
        #expect(check.stdoutText.contains("types match, linked through JetStream at nats://"), "\(check.stdoutText)")

        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        // Once the first article is stored, SIGKILL relay: JetStream hands what it held to the
        // relay the supervisor starts again, after the ack wait.
        var killed = false
        let storing = await eventually(timeout: .seconds(90)) {
            guard let status = await Self.status(name), (status["outputs"] as? Int ?? 0) > 0 else { return !run.isRunning }
            let relay = (status["stages"] as? [[String: Any]])?.first { $0["name"] as? String == "relay" }
            #expect((relay?["peers"] as? String) == "← JetStream \(name).relay → JetStream \(name).parse", "\(status)")
            if let pid = (relay?["pids"] as? [Int])?.first { killed = kill(Int32(pid), SIGKILL) == 0 }
            return true
        }
        #expect(storing, "no article was stored within 90 s: \(run.stderr)")
        #expect(await run.wait(timeout: .seconds(120)) == 0, "\(run.stderr)")
        #expect(run.stderr.contains("every URL is stored in JetStream"), "\(run.stderr)")
        #expect(run.stderr.contains("the JetStream queues are empty"), "\(run.stderr)")
        #expect(run.stderr.contains("\(total)/\(total) sources done"), "\(run.stderr)")
        if killed { #expect(run.stderr.contains("relay stopped: killed by signal 9"), "\(run.stderr)") }
        let rows = try await RunnelProcess.exec(
            "/usr/bin/env", ["sqlite3", "news.sqlite", "SELECT count(*), count(DISTINCT url) FROM articles"], in: dir)
        #expect(rows.stdoutLines == ["\(total)|\(total)"], "\(rows.stderr) \(run.stderr)")
    }

    @Test("SIGTERM mid-run drains and exits 0, leaving the rest in JetStream; a second run takes it to the store", .timeLimit(.minutes(3)))
    func drainAndResume() async throws {
        guard let nats = Self.natsServer() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("natsdrain")
        let total = 120
        let file = try Self.pipeline(name, pages: total, nats: nats, in: dir)
        let first = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "first")
        let started = await eventually(timeout: .seconds(90)) {
            (await Self.status(name)?["outputs"] as? Int ?? 0) > 0 || !first.isRunning
        }
        #expect(started, "\(first.stderr)")
        first.signal(SIGTERM)
        #expect(await first.wait(timeout: .seconds(60)) == 0, "\(first.stderr)")
        #expect(!first.stderr.contains("the JetStream queues are empty"), "the first run should stop part way: \(first.stderr)")
        let second = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "second")
        #expect(await second.wait(timeout: .seconds(120)) == 0, "\(second.stderr)")
        #expect(second.stderr.contains("the JetStream queues are empty"), "\(second.stderr)")
        let rows = try await RunnelProcess.exec("/usr/bin/env", ["sqlite3", "news.sqlite", "SELECT count(DISTINCT url) FROM articles"], in: dir)
        #expect(rows.stdoutLines == ["\(total)"], "\(rows.stderr) \(first.stderr) \(second.stderr)")
    }

    /// `runnel status --name NAME --json`, or nil while it does not answer.
    static func status(_ name: String) async -> [String: Any]? {
        guard let result = try? await RunnelProcess.run(["status", "--name", name, "--json"]), result.status == 0 else { return nil }
        return try? JSONSerialization.jsonObject(with: result.stdout) as? [String: Any]
    }

    /// The test server's URL, or a recorded failure saying how to get one.
    static func natsServer() -> String? {
        guard let url = ProcessInfo.processInfo.environment["RUNNEL_TEST_NATS"], url.hasPrefix("nats://") else {
            Issue.record(
                """
                RUNNEL_TEST_NATS is not set: these tests need a nats-server with JetStream. Run Scripts/test.sh \
                (it starts one), or `. Scripts/lib/nats.sh && nats_start`, which exports RUNNEL_TEST_NATS.
                """)
            return nil
        }
        return url.hasSuffix("/") ? String(url.dropLast()) : url
    }
}
