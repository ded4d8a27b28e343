import Foundation
import RunnelProtocol
import RunnelTransport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Both sides of a link answer as PROTOCOL.md says (issue 12): refusals before `hello` and
/// broken streams are told with `bye` and the code, `health` and `describe` are answered on the
/// output side too, a nacked message counts `attempt` up and its record names the receiver,
/// unreadable lines reach `--dead-letter`, silent peers are pinged and closed, and a listener
/// bounds its connections and what waits for a peer that does not read.
@Suite("Link conformance, both sides")
struct LinkConformanceTests {
    @Test("a data line before hello gets bye FAILED_PRECONDITION; a binary stream gets bye DATA_LOSS", .timeLimit(.minutes(1)))
    func beforeHello() async throws {
        let (dir, socket, relay) = try await Self.relay()
        defer { relay.signal(SIGKILL) }
        _ = dir

        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let heard = try await connection.run { reader, writer in
            try writer.send([(seq: UInt64(1), envelope: Self.message("early"))])
            return try await Self.controls(&reader)
        }
        #expect(heard.first?.name == "hello")
        #expect(Self.bye(heard)?.code == .failedPrecondition, "heard: \(heard)")

        let answer = try await RawClient.exchange(path: socket, sending: [0x00, 0x01, 0x02, 0x03, 0x04])
        let lines = try Self.decode(answer)
        #expect(Self.bye(lines)?.code == .dataLoss, "heard: \(lines)")
        #expect(relay.isRunning)
        #expect(try await Self.sendOne(to: socket), "the next peer is served")
    }

    @Test("a peer that answers no ping within --idle-timeout gets bye DEADLINE_EXCEEDED; one that answers stays", .timeLimit(.minutes(1)))
    func idle() async throws {
        let (_, socket, relay) = try await Self.relay(["--idle-timeout", "900ms"])
        defer { relay.signal(SIGKILL) }

        // Dead: says hello, then nothing, not even pong.
        let dead = try await LineConnection.connect(to: .unix(path: socket))
        let started = ContinuousClock.now
        let heard = try await dead.run { reader, writer in
            _ = try await Self.handshake.connect(&reader, writer)
            return try await Self.controls(&reader)
        }
        #expect(heard.contains { if case .ping = $0 { true } else { false } }, "pinged first: \(heard)")
        #expect(Self.bye(heard)?.code == .deadlineExceeded, "heard: \(heard)")
        #expect(Self.bye(heard)?.message.contains("--idle-timeout") == true)
        #expect(started.duration(to: .now) < .seconds(20))

        // Quiet but live: answers four pings (4 s of silence at 1 s each, past a 3 s timeout —
        // long enough that a loaded machine answers in time), then drains politely and is told
        // bye OK: the link stayed up throughout.
        let (_, liveSocket, liveRelay) = try await Self.relay(["--idle-timeout", "3s"])
        defer { liveRelay.signal(SIGKILL) }
        let live = try await LineConnection.connect(to: .unix(path: liveSocket))
        let (pongs, bye): (Int, Bye?) = try await live.run { reader, writer -> (Int, Bye?) in
            _ = try await Self.handshake.connect(&reader, writer)
            var pongs = 0
            while let input = try await reader.next() {
                guard case let .line(.control(control)) = input else { continue }
                switch control {
                case let .ping(id):
                    try writer.send(.pong(id: id))
                    pongs += 1
                    if pongs == 4 { try writer.send(.drain) }
                case let .bye(bye): return (pongs, bye)
                default: break
                }
            }
            return (pongs, nil)
        }
        #expect(pongs >= 4)
        #expect(bye?.code == .ok, "the live link ended by its own drain, not the timeout: \(String(describing: bye))")
        #expect(relay.isRunning && liveRelay.isRunning)
    }

    @Test("a peer that drained is not timed for idleness while the stage finishes its messages", .timeLimit(.minutes(1)))
    func drainedPeerIsNotIdle() async throws {
        // Each message takes 3 s in the relay, more than the 1 s idle timeout; the peer says
        // nothing after its drain (it answers no ping) and must still get its ack and bye OK.
        let (_, socket, relay) = try await Self.relay(["--idle-timeout", "1s", "--delay", "3s"])
        defer { relay.signal(SIGKILL) }
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let heard = try await connection.run { reader, writer in
            _ = try await Self.handshake.connect(&reader, writer)
            try writer.send([(seq: UInt64(1), envelope: Self.message("slow"))])
            try writer.send(.drain)
            return try await Self.controls(&reader)
        }
        #expect(heard.contains(.ack(seq: 1)), "heard: \(heard)")
        #expect(Self.bye(heard)?.code == .ok, "heard: \(heard)")
    }

    @Test("describe on a link shows the link's settings in force: --idle-timeout and the others, defaults or as given", .timeLimit(.minutes(1)))
    func describeShowsLinkSettings() async throws {
        let (_, socket, relay) = try await Self.relay(["--idle-timeout", "45s", "--max-connections", "7"])
        defer { relay.signal(SIGKILL) }
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let service: ServiceDefinition? = try await connection.run { reader, writer in
            _ = try await Self.handshake.connect(&reader, writer)
            try writer.send(.describe(nil))
            while let input = try await reader.next() {
                if case let .line(.control(.describe(service?))) = input {
                    try writer.send(.drain)
                    return service
                }
            }
            return nil
        }
        let options = Dictionary(uniqueKeysWithValues: (service?.options ?? []).map { ($0.name, $0.default) })
        #expect(options["idle-timeout"] == "45s", "\(options)")
        #expect(options["max-connections"] == "7")
        #expect(options["handshake-timeout"] == "10s", "the default, as --help shows it")
        #expect(options["max-unread"] == "16MiB")
        #expect(options["window"] == "256")
    }

    @Test("past --max-connections a peer gets bye RESOURCE_EXHAUSTED; once one leaves, the next is served", .timeLimit(.minutes(1)))
    func connectionLimit() async throws {
        let (_, socket, relay) = try await Self.relay(["--max-connections", "2"])
        defer { relay.signal(SIGKILL) }

        var held: [(LineConnection, Task<Void, any Error>)] = []
        for _ in 0..<2 {
            let connection = try await LineConnection.connect(to: .unix(path: socket))
            let (opened, signal) = AsyncStream<Void>.makeStream()
            let task = Task {
                try await connection.run { reader, writer in
                    _ = try await Self.handshake.connect(&reader, writer)
                    signal.yield()
                    while try await reader.next() != nil {}
                }
            }
            var iterator = opened.makeAsyncIterator()
            _ = await iterator.next()
            held.append((connection, task))
        }
        let third = try await LineConnection.connect(to: .unix(path: socket))
        let refusal: RunnelError? = try await third.run { reader, writer in
            do throws(RunnelError) {
                _ = try await Self.handshake.connect(&reader, writer)
                return nil
            } catch {
                return error
            }
        }
        #expect(refusal?.code == .resourceExhausted, "\(String(describing: refusal))")
        #expect(refusal?.message.contains("--max-connections") == true)

        held[0].0.close()
        _ = try? await held[0].1.value
        // The slot is given back when the first link's handler ends; the next peer gets it.
        #expect(await eventually(timeout: .seconds(10)) { (try? await Self.sendOne(to: socket)) == true })
        held[1].0.close()
        #expect(relay.isRunning)
    }

    @Test("a peer that sends pings and never reads the pongs is cut off at --max-unread, not buffered for ever", .timeLimit(.minutes(1)))
    func unreadReplies() async throws {
        let (_, socket, relay) = try await Self.relay(["--max-unread", "64KiB"])
        defer { relay.signal(SIGKILL) }
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let closed: Bool = try await connection.run { reader, writer in
            _ = try await Self.handshake.connect(&reader, writer)
            // 4 MiB of pongs to answer, far past the socket buffers and the bound; never read.
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<512 {
                let id = (0..<4096).map { _ in String(UInt8.random(in: 0...15, using: &generator), radix: 16) }.joined()
                guard (try? writer.send(.ping(id: id))) != nil else { return true }
            }
            // The stage says it cut this peer off (its log is the event to wait for).
            return await eventually(timeout: .seconds(20)) { relay.stderr.contains("--max-unread") }
        }
        #expect(closed, "\(relay.stderr)")
        #expect(relay.stderr.contains("RESOURCE_EXHAUSTED"))
        #expect(relay.isRunning)
        #expect(try await Self.sendOne(to: socket), "the next peer is served")
    }

    @Test("unreadable lines from upstream reach --dead-letter, not the output; a data line's seq is acked all the same", .timeLimit(.minutes(1)))
    func unreadableLinesAreDeadLettered() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let (_, socket, relay) = try await Self.relay(["--dead-letter", dir.appendingPathComponent("dead.jsonl.zst").path], in: dir)
        defer { relay.signal(SIGKILL) }
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let acked: UInt64 = try await connection.run { reader, writer in
            _ = try await Self.handshake.connect(&reader, writer)
            // seq 1 has no id; seq 2 is good. Both must be acked: 1 once its record is written.
            try writer.sendRaw([#"{"seq":1,"type":"x","body":{}}"#])
            try writer.send([(seq: UInt64(2), envelope: Self.message("good"))])
            var acked: UInt64 = 0
            while acked < 2, let input = try await reader.next() {
                if case let .line(.control(.ack(seq))) = input { acked = max(acked, seq) }
            }
            try writer.send(.drain)
            while try await reader.next() != nil {}
            return acked
        }
        #expect(acked == 2)
        let dead = try Self.decode(Data(contentsOf: dir.appendingPathComponent("dead.jsonl.zst")))
        let records = dead.compactMap { if case let .data(envelope) = $0 { envelope } else { nil } }
        #expect(records.count == 1 && records.first?.type == "error", "\(dead)")
        let record = try #require(try records.first?.body.decode(ErrorRecord.self))
        #expect(record.code == .invalidArgument)
        #expect(record.raw?.contains(#""seq":1"#) == true)
        let out = (try? String(contentsOf: dir.appendingPathComponent("out.jsonl"), encoding: .utf8)) ?? ""
        #expect(out.contains("\"id\":\"good\""))
        #expect(!out.contains("\"error\""), "the record went to the dead-letter log only: \(out)")
    }

    /// From 1, and from near `Int.max`: a peer may send any attempt up to it, and counting one
    /// more must stop there, not trap (the relay used to crash).
    @Test(
        "the output side answers health and describe; a nacked message comes back with attempt counting up, and the final record names the receiver",
        .timeLimit(.minutes(1)), arguments: [1, Int.max - 2])
    func outputSide(firstAttempt: Int) async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let downPath = dir.appendingPathComponent("down.sock").path
        let listener = try await LinkListener.bind(.unix(path: downPath))
        let seen = Mutex<(attempts: [Int], health: HealthStatus?, service: ServiceDefinition?)>(([], nil, nil))
        let serving = Task {
            try await listener.serve { connection in
                try? await connection.run { reader, writer in
                    _ = try await Handshake(local: Hello(stage: "refuser", accepts: ["*"])).accept(&reader, writer)
                    try writer.send([.control(.health(nil)), .control(.describe(nil)), .control(.credit(100))])
                    while let input = try await reader.next() {
                        guard case let .line(line) = input else { continue }
                        switch line {
                        case let .data(envelope):
                            seen.withLock { $0.attempts.append(envelope.attempt) }
                            try writer.send(.nack(Nack(seq: envelope.seq!, code: .unavailable, message: "busy, try later")))
                        case let .control(.health(status?)): seen.withLock { $0.health = status }
                        case let .control(.describe(service?)): seen.withLock { $0.service = service }
                        default: break
                        }
                    }
                }
            }
        }
        defer { listener.close(); serving.cancel() }
        let input = dir.appendingPathComponent("in.jsonl")
        var first = Self.message("m1")
        first.attempt = firstAttempt
        try (first.jsonLine + "\n").write(to: input, atomically: true, encoding: .utf8)
        let relay = try BackgroundProcess(
            ["relay", "--listen", "-", "--to", "unix:" + downPath, "--dead-letter", dir.appendingPathComponent("dead.jsonl.zst").path,
             "--finish-timeout", "20s"],
            in: dir, name: "relay", stdin: input)
        defer { relay.signal(SIGKILL) }
        let status = await relay.wait(timeout: .seconds(30))
        #expect(status == 0, "the message was dead-lettered, so the input is done: \(relay.stderr)")

        let observed = seen.withLock { $0 }
        let expected = (0..<5).map { more in firstAttempt.addingReportingOverflow(more).overflow ? Int.max : firstAttempt + more }
        #expect(observed.attempts == expected, "each redelivery after a retryable nack counts up, to Int.max at most")
        #expect(observed.health == .serving)
        #expect(observed.service?.name == "relay")
        let dead = try Self.decode(Data(contentsOf: dir.appendingPathComponent("dead.jsonl.zst")))
        let envelope = try #require(dead.compactMap { if case let .data(e) = $0 { e } else { nil } }.first, "\(dead) \(relay.stderr)")
        let record = try envelope.body.decode(ErrorRecord.self)
        #expect(record.stage == "refuser", "the stage that refused it (PROTOCOL.md 7.5)")
        #expect(record.message == "busy, try later", "the receiver's message as it is")
        #expect(record.code == .unavailable)
        #expect(record.attempt == expected.last, "the record counts the deliveries made")
        #expect(envelope.parent == "m1")
    }

    // MARK: Helpers

    static let handshake = Handshake(local: Hello(stage: "test-peer", emits: ["*"]))

    static func message(_ id: String) -> Envelope {
        Envelope(id: id, type: "x", body: RawJSON(validated: Array("{}".utf8)))
    }

    /// Starts `runnel relay` on a Unix socket, writing to `out.jsonl`, and waits for the socket.
    static func relay(_ extra: [String] = [], in directory: URL? = nil) async throws -> (URL, String, BackgroundProcess) {
        let dir = try directory ?? RunnelProcess.temporaryDirectory()
        let socket = dir.appendingPathComponent("relay.sock").path
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:" + socket, "--to", "file:" + dir.appendingPathComponent("out.jsonl").path] + extra,
            in: dir, name: "relay")
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })
        return (dir, socket, relay)
    }

    /// Every control line the peer sends until it closes.
    static func controls(_ reader: inout LineReader) async throws -> [ControlMessage] {
        var heard: [ControlMessage] = []
        while let input = try? await reader.next() {
            if case let .line(.control(control)) = input { heard.append(control) }
        }
        return heard
    }

    static func bye(_ heard: [ControlMessage]) -> Bye? {
        heard.compactMap { if case let .bye(bye) = $0 { bye } else { nil } }.first
    }

    static func bye(_ lines: [WireLine]) -> Bye? {
        bye(lines.compactMap { if case let .control(control) = $0 { control } else { nil } })
    }

    /// Sends one message through the handshake and returns whether it was acked.
    static func sendOne(to socket: String) async throws -> Bool {
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        return try await connection.run { reader, writer in
            _ = try await handshake.connect(&reader, writer)
            try writer.send([(seq: UInt64(1), envelope: message("probe-\(UInt64.random(in: 0...UInt64.max))"))])
            while let input = try await reader.next() {
                if case .line(.control(.ack(1))) = input {
                    try writer.send(.drain)
                    return true
                }
            }
            return false
        }
    }

    /// The lines of a stream (zstd or plain).
    static func decode(_ bytes: some Collection<UInt8>) throws -> [WireLine] {
        let decoder = StreamDecoder()
        var lines: [WireLine] = []
        let all = Array(bytes)
        let collect: (LineEvent) throws -> Void = { event in
            if case let .line(line, _) = event { lines.append(try WireLine(line: line)) }
        }
        try decoder.feed(all, collect)
        try decoder.finish(collect)
        return lines
    }
}

/// A blocking Unix-socket client for bytes no Runnel writer would send, on its own thread.
enum RawClient {
    /// Connects, sends `bytes`, and reads until the peer closes (or 20 s pass).
    static func exchange(path: String, sending bytes: [UInt8]) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
                defer { close(fd) }
                var address = sockaddr_un()
                address.sun_family = sa_family_t(AF_UNIX)
                withUnsafeMutableBytes(of: &address.sun_path) { raw in
                    _ = path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count - 1))) }
                }
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
                }
                guard connected == 0 else { return continuation.resume(throwing: POSIXError(.ECONNREFUSED)) }
                var timeout = timeval(tv_sec: 20, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 65_536)
                while true {
                    let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                    if n <= 0 { break }
                    received.append(contentsOf: buffer[0..<n])
                }
                continuation.resume(returning: received)
            }.start()
        }
    }
}
