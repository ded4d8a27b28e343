import Foundation
import RunnelProtocol
import RunnelTesting
import RunnelTransport
import Testing

/// Peers that break the protocol's bounds are told why and cut off, and the stage goes on
/// serving others: a sender that ignores the credit it was granted (PROTOCOL.md §7.3) gets
/// `RESOURCE_EXHAUSTED`, one that never says hello gets `DEADLINE_EXCEEDED`.
@Suite("Misbehaving peers are bounded")
struct MisbehavingPeerTests {
    @Test("a sender that ignores credit gets bye RESOURCE_EXHAUSTED; a well-behaved one is served after", .timeLimit(.minutes(1)))
    func overrun() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let socket = dir.appendingPathComponent("relay.sock").path
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:" + socket, "--to", "file:out.jsonl", "--window", "4", "--delay", "20ms"], in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })
        let messages = (1...2_000).map { i in
            Envelope(id: "m\(i)", type: "x", body: RawJSON(validated: Array(#"{"n":\#(i)}"#.utf8)))
        }

        let rude = try await TestSender.send(messages, to: .unix(path: socket), timeout: .seconds(20), ignoringCredit: true)
        #expect(rude.bye?.code == .resourceExhausted, "bye: \(String(describing: rude.bye))")
        #expect(rude.bye?.message.contains("credit") == true)
        #expect(rude.acked <= 4, "no more than the credit granted was taken: \(rude.acked)")

        let polite = try await TestSender.send(Array(messages.prefix(10)), to: .unix(path: socket), timeout: .seconds(20))
        #expect(polite.acked == 10, "the stage serves the next sender")
        #expect(polite.bye == nil)
        #expect(relay.isRunning)
        #expect(relay.stderr.contains("RESOURCE_EXHAUSTED"), "\(relay.stderr)")
    }

    @Test("a peer that connects and never says hello is told bye DEADLINE_EXCEEDED and closed", .timeLimit(.minutes(1)))
    func silentPeer() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let socket = dir.appendingPathComponent("relay.sock").path
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:" + socket, "--to", "file:out.jsonl", "--handshake-timeout", "2s"], in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })

        // Connect, read what the stage says, and say nothing back.
        let connection = try await LineConnection.connect(to: .unix(path: socket))
        let started = ContinuousClock.now
        let heard: [ControlMessage] = try await connection.run { reader, _ in
            var heard: [ControlMessage] = []
            while let input = try? await reader.next() {
                if case let .line(.control(control)) = input { heard.append(control) }
            }
            return heard
        }
        let bye = heard.compactMap { if case let .bye(bye) = $0 { bye } else { nil } }.first
        #expect(bye?.code == .deadlineExceeded, "heard: \(heard)")
        #expect(bye?.message.contains("hello") == true)
        #expect(started.duration(to: .now) < .seconds(30), "closed after the timeout, not never")
        // (2 s, not less: the polite sender below must get its hello through in time on a
        // loaded machine too.)
        #expect(relay.isRunning)

        let polite = try await TestSender.send([Envelope(type: "x", body: RawJSON(validated: Array("{}".utf8)))], to: .unix(path: socket))
        #expect(polite.acked == 1, "the stage still serves peers that say hello")
    }

    @Test("a stage whose next stage never acks, sent SIGTERM, exits within --drain-timeout; its input is not acked", .timeLimit(.minutes(1)))
    func drainIsBounded() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let relaySocket = dir.appendingPathComponent("relay.sock").path
        let stuck = try SilentListener(path: dir.appendingPathComponent("stuck.sock").path)  // accepts, never answers
        defer { stuck.close() }
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:" + relaySocket, "--to", "unix:" + dir.appendingPathComponent("stuck.sock").path,
             "--drain-timeout", "1s", "--stats-file", dir.appendingPathComponent("stats.json").path],
            in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: relaySocket) })
        let messages = (1...20).map { Envelope(id: "m\($0)", type: "x", body: RawJSON(validated: Array("{}".utf8))) }
        let sending = Task { try await TestSender.send(messages, to: .unix(path: relaySocket), timeout: .seconds(30)) }
        // The relay has taken the 20 messages (its stats file, written every second, says so) and
        // waits on its next stage.
        #expect(await eventually(timeout: .seconds(20)) { received(dir.appendingPathComponent("stats.json")) >= 20 })
        // Its statistics show both sides of its links: on the input, the 20 received and not acked
        // on one connection, with the rest of the credit open; on the output, nothing sent, as the
        // next stage never granted any credit.
        let links = linkFlows(dir.appendingPathComponent("stats.json"))
        #expect(links.first { $0.side == "in" } == LinkFlow(side: "in", connections: 1, credit: 256 - 20, inFlight: 20), "\(links)")
        let output = links.first { $0.side == "out" }
        #expect(output?.credit == 0 && output?.inFlight == 0, "\(links)")

        relay.signal(SIGTERM)
        let started = ContinuousClock.now
        _ = await relay.wait(timeout: .seconds(30))
        #expect(!relay.isRunning, "the drain ended")
        #expect(started.duration(to: .now) < .seconds(15), "within the drain timeout (1s), not after the 30s ack timeout or never")
        #expect(relay.stderr.contains("still draining after 1s (--drain-timeout)"), "\(relay.stderr)")
        // The link was cut, so the sender sees a broken stream or a bye; either way nothing was acked,
        // and it keeps all 20 to send again.
        let sent = try? await sending.value
        #expect((sent?.acked ?? 0) == 0)
    }
}

extension MisbehavingPeerTests {
    @Test("a stage reading a file whose next stage never acks, sent SIGTERM while it waits for room, exits within --drain-timeout", .timeLimit(.minutes(1)))
    func streamDrainIsBounded() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let stuck = try SilentListener(path: dir.appendingPathComponent("stuck.sock").path)  // accepts, never answers
        defer { stuck.close() }
        // 3 MB of lines: the first read (1 MiB) goes through alone, past the 1,024 messages that
        // may be in flight; the next waits for room that the stuck next stage never gives back.
        let input = dir.appendingPathComponent("in.jsonl")
        let line = Envelope(id: "m", type: "x", body: RawJSON(validated: Array(#"{"pad":"\#(String(repeating: "p", count: 80))"}"#.utf8))).jsonLine
        try String(repeating: line + "\n", count: 30_000).write(to: input, atomically: true, encoding: .utf8)
        let relay = try BackgroundProcess(
            ["relay", "--listen", "file:" + input.path, "--to", "unix:" + dir.appendingPathComponent("stuck.sock").path,
             "--drain-timeout", "1s", "--stats-file", dir.appendingPathComponent("stats.json").path],
            in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually(timeout: .seconds(20)) { received(dir.appendingPathComponent("stats.json")) > 0 })

        relay.signal(SIGTERM)
        let started = ContinuousClock.now
        _ = await relay.wait(timeout: .seconds(20))
        #expect(!relay.isRunning, "the drain ended: the reader's wait for room ended with it: \(relay.stderr)")
        #expect(started.duration(to: .now) < .seconds(15), "within the drain timeout (1s), not never")
    }
}

extension MisbehavingPeerTests {
    @Test("a zstd frame of millions of tiny lines is refused, not decoded whole: the link is closed, the stage keeps serving", .timeLimit(.minutes(1)))
    func compressionBomb() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let socket = dir.appendingPathComponent("relay.sock").path
        let relay = try BackgroundProcess(["relay", "--listen", "unix:" + socket, "--to", "file:out.jsonl"], in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })

        // Sent instead of a hello.
        let bomb = try zstdBomb()
        #expect(bomb.count < 1 << 20, "\(bomb.count) bytes")

        let fd = Glibc.socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            for (i, byte) in socket.utf8.enumerated() where i < path.count - 1 { path[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(connected == 0)
        let written = bomb.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        #expect(written == bomb.count)
        // The stage answers with its hello, then closes the link: read to the end.
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while buffer.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}

        #expect(relay.isRunning)
        // At most a read's budget of lines is decoded (~100 MB here); the whole frame took 2.5 GB.
        #expect((relay.peakResidentKiB ?? 0) < 500_000, "peak resident: \(relay.peakResidentKiB ?? 0) KiB")
        #expect(await eventually { relay.stderr.contains("did not start with hello") || relay.stderr.contains("compression bomb") }, "\(relay.stderr)")
        let polite = try await TestSender.send([Envelope(type: "x", body: RawJSON(validated: Array("{}".utf8)))], to: .unix(path: socket))
        #expect(polite.acked == 1, "the stage still serves peers that keep to the protocol")
    }

    @Test("the same bomb on a stage's stdin ends the input with a RESOURCE_EXHAUSTED record, not the process", .timeLimit(.minutes(1)))
    func compressionBombOnStdin() async throws {
        let result = try await RunnelProcess.run(["relay"], stdin: Data(try zstdBomb()))
        #expect(result.status == 0, "a stage reports bad input as records: \(result.stderr)")
        #expect(result.stderr.contains("RESOURCE_EXHAUSTED 1"), "\(result.stderr.suffix(600))")
        #expect(result.stdoutLines.last?.contains("compression bomb") == true, "\(result.stdoutLines.last ?? "")")
        // A record for each line up to the budget (~262,000), not for the 268 million in the frame.
        #expect(result.stdoutLines.count < 300_000, "\(result.stdoutLines.count) records")
    }
}

/// 512 MiB of "x\n" (268 million lines, none of them JSON) as one zstd frame of ~50 KB.
private func zstdBomb() throws -> [UInt8] {
    let compressor = ZstdCompressor(level: 1)
    let chunk = (0..<(1 << 20)).map { $0 % 2 == 0 ? UInt8(ascii: "x") : UInt8(ascii: "\n") }
    var bomb: [UInt8] = []
    for _ in 0..<511 { try compressor.compress(chunk, mode: .continue, into: &bomb) }
    try compressor.compress(chunk, mode: .end, into: &bomb)
    return bomb
}

/// The `received` count in a stage's `--stats-file`; 0 while the file is missing or half-written.
private func received(_ statsFile: URL) -> Int {
    struct Counts: Decodable { var received: Int }
    guard let data = try? Data(contentsOf: statsFile) else { return 0 }
    return (try? JSONDecoder().decode(Counts.self, from: data))?.received ?? 0
}

/// One side of a stage's links in its `--stats-file` (`status.json#/$defs/link`).
private struct LinkFlow: Decodable, Equatable {
    var side: String
    var connections: Int
    var credit: Int
    var inFlight: Int

    enum CodingKeys: String, CodingKey {
        case side, connections, credit
        case inFlight = "in_flight"
    }
}

/// The `links` of a stage's `--stats-file`; empty while the file is missing or half-written.
private func linkFlows(_ statsFile: URL) -> [LinkFlow] {
    struct Statistics: Decodable { var links: [LinkFlow] }
    guard let data = try? Data(contentsOf: statsFile) else { return [] }
    return (try? JSONDecoder().decode(Statistics.self, from: data))?.links ?? []
}
