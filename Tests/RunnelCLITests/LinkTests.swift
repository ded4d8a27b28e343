import Foundation
import Synchronization
import Testing

/// Real processes over real sockets: send → relay → relay → recv.
@Suite("Links between processes", .serialized)
struct LinkTests {
    /// `r1` → `r2` → `recv` on Unix sockets under `sock`, listening once `r1` is.
    static func chain(in dir: URL, sock: String, second name: String = "r2") async throws
        -> (recv: BackgroundProcess, second: BackgroundProcess, first: BackgroundProcess)
    {
        let recv = try BackgroundProcess(["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv")
        let second = try BackgroundProcess(
            ["relay", "--listen", "unix:\(sock)/r2.sock", "--to", "unix:\(sock)/recv.sock"], in: dir, name: name)
        let first = try BackgroundProcess(
            ["relay", "--listen", "unix:\(sock)/r1.sock", "--to", "unix:\(sock)/r2.sock"], in: dir, name: "r1")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/r1.sock") })
        return (recv, second, first)
    }

    @Test("20,000 messages arrive although the middle relay is SIGKILLed mid-stream", .timeLimit(.minutes(2)))
    func killMiddleRelay() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(20_000, to: input)
        let sock = dir.appendingPathComponent("s").path
        let chain = try await Self.chain(in: dir, sock: sock, second: "r2a")
        let (recv, first) = (chain.recv, chain.first)
        var second = chain.second
        let send = try BackgroundProcess(["send", "unix:\(sock)/r1.sock", input.path], in: dir, name: "send")

        // Kill the middle relay once some, but not all, messages went through. A timer on a
        // dispatch queue of its own watches for that moment (the receiver's output passing 200 kB,
        // or 60 s): on a busy 2-core machine the test's tasks can wait for a cooperative thread
        // long enough for all 20,000 to pass.
        let victim = second
        let killed = DispatchSemaphore(value: 0)
        let done = OnceFlag()
        let giveUp = DispatchTime.now() + .seconds(60)
        let watcher = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "kill-watch", qos: .userInteractive))
        watcher.schedule(deadline: .now(), repeating: .milliseconds(1))
        watcher.setEventHandler {
            let size = (try? FileManager.default.attributesOfItem(atPath: recv.stdoutURL.path)[.size]) as? Int ?? 0
            guard size > 200_000 || DispatchTime.now() > giveUp, done.set() else { return }
            victim.signal(SIGKILL)
            killed.signal()
        }
        watcher.resume()
        defer { watcher.cancel() }
        #expect(await eventually(timeout: .seconds(90)) { killed.wait(timeout: .now()) == .success })
        _ = await second.wait()
        let before = messageIDs(recv.stdout).count
        #expect(before < 20_000, "the kill came too late to test anything")
        second = try BackgroundProcess(
            ["relay", "--listen", "unix:\(sock)/r2.sock", "--to", "unix:\(sock)/recv.sock"], in: dir, name: "r2b")

        #expect(await send.wait(timeout: .seconds(90)) == 0, "send: \(send.stderr)")
        for process in [first, second, recv] { process.signal(SIGTERM) }
        for process in [first, second, recv] { #expect(await process.wait(timeout: .seconds(20)) == 0) }
        let ids = Set(messageIDs(recv.stdout))
        let missing = (0..<20_000).filter { !ids.contains("m\($0)") }
        #expect(missing.isEmpty, "missing \(missing.count), e.g. \(missing.prefix(5))")
    }

    @Test("a consumer that stops reading keeps the producer's memory bounded; all flows once it reads again", .timeLimit(.minutes(2)))
    func slowConsumer() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(100_000, to: input, bodyBytes: 1000)  // ~110 MB
        let sock = dir.appendingPathComponent("s").path
        let recv = try BackgroundProcess(["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/recv.sock") })
        recv.signal(SIGSTOP)
        let send = try BackgroundProcess(["send", "unix:\(sock)/recv.sock", input.path], in: dir, name: "send")
        // The sender is watched for 3 s with the consumer stopped: the span is part of what is
        // tested (its memory stays bounded however long the consumer stalls), not a wait for state.
        var peak = 0
        let watchUntil = ContinuousClock.now + .seconds(3)
        while ContinuousClock.now < watchUntil {
            peak = max(peak, send.residentKiB ?? 0)
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(send.isRunning, "send finished although nothing could be acked")
        #expect(peak > 0 && peak < 80_000, "send's resident memory reached \(peak) KiB with a stopped consumer")
        recv.signal(SIGCONT)
        #expect(await send.wait(timeout: .seconds(90)) == 0, "send: \(send.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 100_000)
    }

    @Test("a TCP peer with a wrong or missing key is refused and logged; the right key works", .timeLimit(.minutes(1)))
    func sharedKey() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(50, to: input)
        let key = "correct horse battery staple"

        let refused = try await RunnelProcess.run(["recv", "--listen", "tcp://127.0.0.1:0"], in: dir)
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("FAILED_PRECONDITION"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--insecure"))

        // Port 0: the OS picks a free port, and the stage logs it once it listens.
        let recv = try BackgroundProcess(
            ["recv", "--listen", "tcp://127.0.0.1:0"], in: dir, name: "recv",
            environment: BackgroundProcess.listeningEnvironment.merging(["RUNNEL_KEY": key]) { $1 })
        defer { recv.signal(SIGKILL) }
        let port = try await recv.boundPort()
        // A refused sender gives up at the first refusal with its status (77), not at a finish
        // timeout that a loaded machine can run out before the refusal comes.
        let wrong = try BackgroundProcess(
            ["send", "tcp://127.0.0.1:\(port)", input.path, "--finish-timeout", "15s", "--max-refusals", "1"], in: dir, name: "wrong",
            environment: ["RUNNEL_KEY": "the wrong key, long enough"])
        #expect(await wrong.wait(timeout: .seconds(20)) == 77, "\(wrong.stderr)")
        #expect(wrong.stderr.contains("UNAUTHENTICATED"), "\(wrong.stderr)")
        #expect(wrong.stderr.contains("refused the link once"), "\(wrong.stderr)")
        let missing = try BackgroundProcess(
            ["send", "tcp://127.0.0.1:\(port)", input.path, "--finish-timeout", "15s", "--max-refusals", "1"], in: dir, name: "missing",
            environment: ["RUNNEL_KEY": ""])
        #expect(await missing.wait(timeout: .seconds(20)) == 77, "\(missing.stderr)")
        #expect(missing.stderr.contains("UNAUTHENTICATED"), "\(missing.stderr)")

        let right = try BackgroundProcess(
            ["send", "tcp://127.0.0.1:\(port)", input.path], in: dir, name: "right", environment: ["RUNNEL_KEY": key])
        #expect(await right.wait(timeout: .seconds(20)) == 0, "\(right.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait() == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 50)
        #expect(recv.stderr.contains("UNAUTHENTICATED"), "the refusal is logged: \(recv.stderr)")
    }

    @Test(
        "garbage, a wrong version, a half-written frame or an abrupt disconnect: one log line, the stage keeps serving",
        .timeLimit(.minutes(1)))
    func badPeers() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(100, to: input)
        let sock = dir.appendingPathComponent("s").path
        let recv = try BackgroundProcess(["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/recv.sock") })
        let peer = RunnelProcess.packageRoot.appendingPathComponent("Tests/RunnelCLITests/Fixtures/bad_peer.py").path
        for mode in ["garbage", "wrong-version", "half-frame", "disconnect"] {
            let result = try await RunnelProcess.exec("/usr/bin/env", ["python3", peer, "\(sock)/recv.sock", mode])
            #expect(result.status == 0, "\(mode): \(result.stderr)")
            if mode == "wrong-version" {
                #expect(result.stdoutText.contains(#"{"ctl":"bye","code":12"#), "the peer is told why (UNIMPLEMENTED): \(result.stdoutText)")
            }
        }
        let send = try await RunnelProcess.run(["send", "unix:\(sock)/recv.sock", input.path])
        #expect(send.status == 0, "\(send.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait() == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 100)
        let dropped = recv.stderr.split(separator: "\n").filter { $0.contains("dropped a connection") }
        #expect(dropped.count == 4, "one line per bad peer: \(recv.stderr)")
        #expect(dropped.filter { $0.contains("DATA_LOSS") }.count == 2, "garbage and the half frame")
        #expect(dropped.contains { $0.contains("UNIMPLEMENTED") })
        #expect(dropped.contains { $0.contains("UNAVAILABLE") }, "the reset connection")
    }

    @Test("a stage stopped while its upstream stays linked says bye, and nobody logs a broken stream", .timeLimit(.minutes(2)))
    func stopWithUpstreamLinked() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(100, to: input)
        let sock = dir.appendingPathComponent("s").path
        let (recv, second, first) = try await Self.chain(in: dir, sock: sock)
        let send = try await RunnelProcess.run(["send", "unix:\(sock)/r1.sock", input.path])
        #expect(send.status == 0, "\(send.stderr)")
        #expect(await eventually { messageIDs(recv.stdout).count == 100 })

        // r1 keeps its link to r2 open; r2 drains, says bye, and waits for r1 to end its stream.
        second.signal(SIGTERM)
        #expect(await second.wait(timeout: .seconds(20)) == 0)
        #expect(first.stderr.contains("relay closed the link: UNAVAILABLE: relay is draining"), "\(first.stderr)")
        #expect(!first.stderr.contains("warning: relay closed the link"), "a drain is no warning: \(first.stderr)")
        for process in [first, recv] { process.signal(SIGTERM) }
        for process in [first, recv] { #expect(await process.wait(timeout: .seconds(20)) == 0) }
        for process in [first, second, recv] {
            #expect(!process.stderr.contains("DATA_LOSS"), "\(process.stderr)")
            #expect(!process.stderr.contains("dropped a connection"), "\(process.stderr)")
        }
    }

    @Test("health and describe answer on a stage's socket")
    func healthAndDescribe() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let sock = dir.appendingPathComponent("s").path
        let relay = try BackgroundProcess(["relay", "--listen", "unix:\(sock)/r.sock", "--to", "-"], in: dir, name: "relay")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/r.sock") })
        let health = try await RunnelProcess.run(["health", "unix:\(sock)/r.sock"])
        #expect(health.status == 0)
        #expect(health.stdoutText == "SERVING\n")
        let describe = try await RunnelProcess.run(["describe", "unix:\(sock)/r.sock"])
        #expect(describe.status == 0)
        #expect(describe.stdoutText.contains("\"name\" : \"relay\""))
        let nobody = try await RunnelProcess.run(["health", "unix:\(sock)/nobody.sock"])
        #expect(nobody.status == 69)
        #expect(nobody.stderr.contains("UNAVAILABLE"))
        relay.signal(SIGTERM)
        #expect(await relay.wait() == 0)
    }

    @Test("call sends messages to a stage and prints its outputs from the same connection")
    func call() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let sock = dir.appendingPathComponent("s").path
        // The stage's own downstream is unreachable: in call mode its outputs do not go there.
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:\(sock)/r.sock", "--to", "unix:\(sock)/nowhere.sock"], in: dir, name: "relay")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/r.sock") })
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(5, to: input)
        let result = try await RunnelProcess.run(["call", "unix:\(sock)/r.sock", input.path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(messageIDs(result.stdoutText) == (0..<5).map { "m\($0)" })
        // A bad line is the input file's, named as such (it was said to be the stage's).
        try Data("{\"id\":\"a\",\"type\":\"x\",\"body\":1}\nnot json\n".utf8).write(to: dir.appendingPathComponent("bad.jsonl"))
        let bad = try await RunnelProcess.run(["call", "unix:\(sock)/r.sock", "bad.jsonl"], in: dir)
        #expect(bad.status == 65, "\(bad.stderr)")
        #expect(bad.stderr.hasPrefix("runnel: bad.jsonl: line 2: INVALID_ARGUMENT"), "\(bad.stderr)")
        relay.signal(SIGTERM)
        #expect(await relay.wait() == 0)
    }
}

/// A flag set once, from any thread: `set()` is true for the first caller only.
private final class OnceFlag: Sendable {
    private let state = Mutex(false)
    func set() -> Bool { state.withLock { was in defer { was = true }; return !was } }
}

/// A stream input that fails partway is an error someone sees, not the end of the input.
@Suite("A linked stage's stream input that cannot be read")
struct UnreadableStreamInputTests {
    @Test("relay --listen file:DIRECTORY: the error is logged and sent downstream as a record, not taken for an empty log")
    func directoryAsInput() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let sock = dir.appendingPathComponent("s").path
        try FileManager.default.createDirectory(atPath: sock, withIntermediateDirectories: true)
        let notALog = dir.appendingPathComponent("not-a-log")
        try FileManager.default.createDirectory(at: notALog, withIntermediateDirectories: true)
        let recv = try BackgroundProcess(["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv")
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/recv.sock") })
        let relay = try await RunnelProcess.run(
            ["relay", "--listen", "file:\(notALog.path)", "--to", "unix:\(sock)/recv.sock"], in: dir)
        #expect(relay.stderr.contains("cannot read \(notALog.path)"), "\(relay.stderr)")
        #expect(await eventually { recv.stdout.contains("cannot read \(notALog.path)") }, "\(recv.stdout)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        let record = try #require(recv.stdout.split(separator: "\n").first)
        #expect(record.contains(#""type":"error""#) && record.contains(#""stage":"relay""#), "\(record)")
    }
}
