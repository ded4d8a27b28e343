import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `nats://` endpoints against a real `nats-server -js`: Scripts/test.sh starts one
/// (Scripts/lib/nats.sh) and exports its URL as RUNNEL_TEST_NATS.
@Suite("NATS JetStream endpoints", .serialized)
struct NatsTests {
    @Test(
        "3 parse replicas share one work queue; one SIGKILLed mid-run: exactly 1,000 stored, its messages redelivered",
        .timeLimit(.minutes(2)))
    func replicasShareWorkAndSurviveAKill() async throws {
        guard let server = natsServer() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let run = UUID().uuidString.prefix(8).lowercased()
        let pages = "\(server)/pages_\(run)?ack_wait=2s"
        let parsed = "\(server)/parsed_\(run)?ack_wait=2s"
        let input = dir.appendingPathComponent("pages.jsonl")
        try writePages(1_000, to: input)

        let store = try BackgroundProcess(["store", "--db", "news.sqlite", "--listen", parsed], in: dir, name: "store")
        func replica(_ n: Int) throws -> BackgroundProcess {
            try BackgroundProcess(
                ["parse", "--listen", pages, "--to", parsed, "--window", "64", "--batch", "16"], in: dir, name: "parse\(n)")
        }
        // The replica to be killed has a downstream that never answers (a socket nobody serves):
        // it takes its window of pages and holds them, unacked, however fast this machine is,
        // telling JetStream they are in progress for as long as it lives.
        let victimStats = dir.appendingPathComponent("parse0.stats.json")
        let victim = try BackgroundProcess(
            ["parse", "--listen", pages, "--to", "unix:\(dir.path)/nobody/parse.sock", "--window", "64", "--batch", "16",
             "--stats-file", victimStats.path],
            in: dir, name: "parse0")
        let send = try BackgroundProcess(["send", "\(server)/pages_\(run)", input.path], in: dir, name: "send")
        #expect(await send.wait(timeout: .seconds(60)) == 0, "send: \(send.stderr)")
        // The victim has taken pages (its stats file, written every second, says so) before the
        // others start.
        #expect(await eventually(timeout: .seconds(20)) { receivedCount(victimStats) > 0 }, "\(victim.stderr)")
        let replicas = [victim, try replica(1), try replica(2)]

        // The others take everything else; what the victim holds stays held while it lives.
        func inserted() -> Int { Set(storedActions(store.stdout).filter { $0.action == "inserted" }.map(\.url)).count }
        // Settled: the same count for 2 s running (the victim renews its hold every ack_wait/3).
        var last = -1, steady = 0
        let deadline = ContinuousClock.now + .seconds(60)
        while steady < 4 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(500))
            let now = inserted()
            steady = now == last && now > 0 ? steady + 1 : 0
            last = now
        }
        let atKill = inserted()
        #expect(steady >= 4 && atKill < 1_000, "the others stored \(atKill); the victim held nothing: \(victim.stderr)")
        victim.signal(SIGKILL)
        _ = await victim.wait()

        let done = await eventually(timeout: .seconds(60)) {
            Set(storedActions(store.stdout).filter { $0.action == "inserted" }.map(\.url)).count >= 1_000
        }
        #expect(done, "stored \(Set(storedActions(store.stdout).map(\.url)).count) of 1,000")
        // Anything still in flight (a redelivery racing an ack) lands within an ack wait. Waiting
        // out the ack waits is what is tested here (no second insert comes), not a wait for state.
        try await Task.sleep(for: .seconds(3))
        for process in replicas.dropFirst() + [store] { process.signal(SIGTERM) }
        for process in replicas.dropFirst() + [store] {
            #expect(await process.wait(timeout: .seconds(30)) == 0, "exit: \(process.stderr)")
        }

        let actions = storedActions(store.stdout)
        let inserted = actions.filter { $0.action == "inserted" }
        #expect(inserted.count == 1_000, "exactly one insert per page, got \(inserted.count)")
        #expect(Set(inserted.map(\.url)).count == 1_000)
        #expect(Set(actions.map(\.url)) == Set((0..<1_000).map(pageURL)))
        #expect(actions.allSatisfy { $0.action == "inserted" || $0.action == "unchanged" }, "a redelivery changed nothing")
        let counts = try await sqlite(dir, "SELECT count(*), count(DISTINCT canonical_url), max(version) FROM articles; SELECT count(*) FROM versions; SELECT count(*) FROM failures")
        #expect(counts == ["1000|1000|1", "1000", "0"], "articles|distinct|max version, versions, failures: \(counts)")

        // The survivors took over the killed replica's unacked messages.
        let redelivered = replicas.dropFirst().map { redeliveries($0.stderr) }.reduce(0, +)
        #expect(redelivered > 0, "no redelivery reported: \(replicas[1].stderr) \(replicas[2].stderr)")
        let shares = replicas.dropFirst().map { $0.stderr }
        #expect(shares.allSatisfy { !$0.contains("FAILED") }, "\(shares)")
    }

    @Test("an unreachable server: UNAVAILABLE with the address, the stage retries and reads once the server is up", .timeLimit(.minutes(1)))
    func unreachableServer() async throws {
        guard natsServer() != nil, let binary = natsServerBinary() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let port = try freePort()
        let url = "nats://127.0.0.1:\(port)"
        let parse = try BackgroundProcess(
            ["parse", "--listen", "\(url)/pages?ack_wait=2s", "--to", "file:out.jsonl"], in: dir, name: "parse")
        #expect(await eventually { parse.stderr.contains("UNAVAILABLE") }, "\(parse.stderr)")
        #expect(parse.stderr.contains(url), "the message names the server: \(parse.stderr)")
        #expect(parse.stderr.contains("retrying"), "\(parse.stderr)")

        // The publishing side says the same, and gives up only when told to.
        let input = dir.appendingPathComponent("pages.jsonl")
        try writePages(5, to: input)
        let early = try await RunnelProcess.run(["send", "\(url)/pages", input.path, "--finish-timeout", "1s"], in: dir)
        #expect(early.status == 69)
        #expect(early.stderr.contains("UNAVAILABLE") && early.stderr.contains("5 messages were not acked"), "\(early.stderr)")
        #expect(parse.isRunning, "the stage waits for the server: \(parse.stderr)")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: binary)
        server.arguments = ["-js", "-a", "127.0.0.1", "-p", "\(port)", "-sd", dir.appendingPathComponent("nats").path]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        let sent = try await RunnelProcess.run(["send", "\(url)/pages", input.path], in: dir)
        #expect(sent.status == 0, "\(sent.stderr)")
        let out = dir.appendingPathComponent("out.jsonl")
        #expect(
            await eventually(timeout: .seconds(20)) {
                ((try? String(contentsOf: out, encoding: .utf8)) ?? "").components(separatedBy: "\"article.parsed\"").count - 1 == 5
            }, "\(parse.stderr)")
        #expect(parse.stderr.contains("NATS is back"), "\(parse.stderr)")
        parse.signal(SIGTERM)
        #expect(await parse.wait(timeout: .seconds(20)) == 0, "\(parse.stderr)")
    }

    @Test("a message the stage refuses is dead-lettered and terminated, never redelivered; a good one goes on", .timeLimit(.minutes(1)))
    func refusedMessageIsTerminated() async throws {
        guard let server = natsServer() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let subject = "mixed_\(UUID().uuidString.prefix(8).lowercased())"
        let input = dir.appendingPathComponent("in.jsonl")
        try writePages(1, to: input)
        try (#"{"id":"wrong-type","type":"url.requested","body":{"url":"https://vov.vn/x"}}"# + "\n")
            .appendLine(to: input)
        let parse = try BackgroundProcess(
            ["parse", "--listen", "\(server)/\(subject)?ack_wait=1s", "--to", "file:out.jsonl", "--dead-letter", "dead.jsonl.zst"],
            in: dir, name: "parse")
        let sent = try await RunnelProcess.run(["send", "\(server)/\(subject)", input.path], in: dir)
        #expect(sent.status == 0, "\(sent.stderr)")
        let out = dir.appendingPathComponent("out.jsonl")
        #expect(await eventually(timeout: .seconds(20)) { ((try? String(contentsOf: out, encoding: .utf8)) ?? "").contains("article.parsed") })
        // Past several ack waits: a message that was not terminated would be back by now. The
        // silence is what is tested (nothing is redelivered), so this sleep stays.
        try await Task.sleep(for: .seconds(3))
        parse.signal(SIGTERM)
        #expect(await parse.wait(timeout: .seconds(20)) == 0, "\(parse.stderr)")
        let dead = try await RunnelProcess.run(["cat", dir.appendingPathComponent("dead.jsonl.zst").path])
        let records = dead.stdoutLines
        #expect(records.count == 1, "one dead letter, written once: \(dead.stdoutText)")
        #expect(records.first?.contains("FAILED_PRECONDITION") == true && records.first?.contains("wrong-type") == true)
        #expect(!parse.stderr.contains("redelivered"), "\(parse.stderr)")
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 1, "\(lines)")
    }

    @Test("a retryable failure (a locked database) is handed back to JetStream and stored once the lock is gone", .timeLimit(.minutes(1)))
    func retryableFailureIsHandedBack() async throws {
        guard let server = natsServer() else { return }
        let dir = try RunnelProcess.temporaryDirectory()
        let subject = "locked_\(UUID().uuidString.prefix(8).lowercased())"
        let made = try await RunnelProcess.run(["store", "--db", "news.sqlite"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let input = dir.appendingPathComponent("in.jsonl")
        try writeParsed(5, to: input)
        let script = """
            python3 -c "
            import os, sqlite3, time
            c = sqlite3.connect('news.sqlite', isolation_level=None)
            c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)
            deadline = time.monotonic() + 60
            while not os.path.exists('release') and time.monotonic() < deadline: time.sleep(0.02)
            c.execute('ROLLBACK')
            " > lock.out &
            tries=0; while ! grep -q locked lock.out 2>/dev/null; do tries=$((tries+1)); [ $tries -lt 400 ] || exit 99; sleep 0.05; done
            "$RUNNEL" send '\(server)/\(subject)' in.jsonl || exit $?
            # The lock is held until the store has handed a message back, then let go.
            tries=0; while ! grep -q "handed back" store.err; do tries=$((tries+1)); [ $tries -lt 600 ] || exit 98; sleep 0.05; done
            touch release
            wait
            """
        let store = try BackgroundProcess(
            ["store", "--db", "news.sqlite", "--busy-timeout", "100ms", "--max-attempts", "1", "--listen", "\(server)/\(subject)?ack_wait=2s"],
            in: dir, name: "store")
        // Lock only once the store has opened its database: locked at start, it would not start.
        let opened = await eventually(timeout: .seconds(30)) {
            let fds = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(store.pid)/fd")) ?? []
            return fds.contains { fd in
                (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(store.pid)/fd/\(fd)"))?.hasSuffix("news.sqlite") == true
            }
        }
        #expect(opened, "the store never opened news.sqlite: \(store.stderr)")
        let sent = try await RunnelProcess.shell(script, in: dir)
        #expect(sent.status == 0, "\(sent.stderr)")
        #expect(await eventually(timeout: .seconds(20)) { storedActions(store.stdout).count == 5 }, "\(store.stderr)")
        store.signal(SIGTERM)
        #expect(await store.wait(timeout: .seconds(20)) == 0)
        #expect(store.stderr.contains("UNAVAILABLE") && store.stderr.contains("handed back"), "\(store.stderr)")
        await #expect(try sqlite(dir, "SELECT count(*) FROM articles; SELECT count(*) FROM failures") == ["5", "0"])
    }
}

// MARK: Helpers

/// The test server's URL, or a recorded failure saying how to get one.
private func natsServer() -> String? {
    guard let url = ProcessInfo.processInfo.environment["RUNNEL_TEST_NATS"], url.hasPrefix("nats://") else {
        Issue.record(
            """
            RUNNEL_TEST_NATS is not set: these tests need a nats-server with JetStream. Run Scripts/test.sh \
            (it starts one), or start one yourself: `. Scripts/lib/nats.sh && nats_start` exports RUNNEL_TEST_NATS \
            (Debian: apt-get install nats-server).
            """)
        return nil
    }
    return url.hasSuffix("/") ? String(url.dropLast()) : url
}

private func natsServerBinary() -> String? {
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init) + ["/usr/sbin"]
    if let found = path.map({ "\($0)/nats-server" }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
        return found
    }
    Issue.record("nats-server is not installed (Debian: apt-get install nats-server)")
    return nil
}

/// A loopback port nobody listens on (the kernel's pick, released again).
private func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw POSIXError(.EADDRINUSE) }
    return Int(UInt16(bigEndian: address.sin_port))
}

private func pageURL(_ n: Int) -> String { "https://vov.vn/the-gioi/phai-bo-\(n).vov" }

/// `count` small news pages as page.fetched messages, each its own article.
private func writePages(_ count: Int, to url: URL) throws {
    var text = ""
    for n in 0..<count {
        let html = """
            <html lang="vi"><head><title>Phái bộ ngoại giao số \(n)</title></head><body>\
            <article><h1>Phái bộ ngoại giao số \(n)</h1>\
            <p>Người phát ngôn cho biết phái bộ số \(n) đã đến Hà Nội sáng nay để bàn về hợp tác khu vực.</p>\
            <p>Các bên nhất trí tiếp tục đối thoại trong những tháng tới, theo thông cáo chung số \(n).</p>\
            </article></body></html>
            """
        let body: [String: Any] = ["url": pageURL(n), "status": 200, "content_type": "text/html", "html": html]
        let envelope: [String: Any] = ["id": "page-\(n)", "type": "page.fetched", "body": body]
        text += String(decoding: try JSONSerialization.data(withJSONObject: envelope), as: UTF8.self) + "\n"
    }
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// `count` article.parsed messages, for a store.
private func writeParsed(_ count: Int, to url: URL) throws {
    var text = ""
    for n in 0..<count {
        let body: [String: Any] = [
            "url": pageURL(n), "canonical_url": pageURL(n), "title": "Phái bộ \(n)", "text": "Đoạn văn số \(n).",
            "paragraphs": ["Đoạn văn số \(n)."], "kind": "article",
        ]
        let envelope: [String: Any] = ["id": "parsed-\(n)", "type": "article.parsed", "body": body]
        text += String(decoding: try JSONSerialization.data(withJSONObject: envelope), as: UTF8.self) + "\n"
    }
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// The article.stored messages a store printed: which page, and what it did.
private func storedActions(_ text: String) -> [(url: String, action: String)] {
    text.split(separator: "\n").compactMap { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            object["type"] as? String == "article.stored", let body = object["body"] as? [String: Any],
            let url = body["url"] as? String, let action = body["action"] as? String
        else { return nil }
        return (url, action)
    }
}

/// How many redelivered messages a replica reported taking.
private func redeliveries(_ stderr: String) -> Int {
    stderr.split(separator: "\n").filter { $0.contains("redelivered by JetStream") }.compactMap { line in
        line.split(separator: " ").firstIndex(of: "messages").flatMap { index in
            Int(line.split(separator: " ")[index - 1])
        }
    }.reduce(0, +)
}

private func sqlite(_ dir: URL, _ sql: String) async throws -> [String] {
    let result = try await RunnelProcess.exec("/usr/bin/env", ["sqlite3", "news.sqlite", sql], in: dir)
    return result.stdoutLines
}

extension String {
    fileprivate func appendLine(to url: URL) throws {
        let handle = try FileHandle(forWritingTo: url)
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(utf8))
    }
}

/// The `received` count in a stage's `--stats-file`; 0 while the file is missing or half-written.
private func receivedCount(_ statsFile: URL) -> Int {
    struct Counts: Decodable { var received: Int }
    guard let data = try? Data(contentsOf: statsFile) else { return 0 }
    return (try? JSONDecoder().decode(Counts.self, from: data))?.received ?? 0
}
