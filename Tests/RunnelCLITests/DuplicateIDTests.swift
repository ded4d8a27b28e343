import Foundation
import RunnelProtocol
import RunnelTesting
import RunnelTransport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// PROTOCOL.md §8.5 through the real binary: a stage drops a message whose id it finished
/// recently (acking it again), but processes a redelivery of one it did not finish, and a replay
/// (which sends logged ids again on purpose).
@Suite("Duplicate ids (runnel)", .timeLimit(.minutes(2)))
struct DuplicateIDTests {
    static func message(_ id: String) -> Envelope {
        Envelope(id: id, type: "x", body: RawJSON(validated: Array(#"{"n":1}"#.utf8)))
    }

    /// The ids written to `out.jsonl`, once there are `count` (or after 20 s).
    static func output(_ dir: URL, count: Int) async -> [String] {
        let path = dir.appendingPathComponent("out.jsonl").path
        func ids() -> [String] {
            ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
            }
        }
        _ = await eventually(timeout: .seconds(20)) { ids().count >= count }
        return ids()
    }

    @Test("a message whose id was finished is acked and dropped, on the same link or another; --recent-ids 0 keeps every copy")
    func finishedIsDropped() async throws {
        let (dir, socket, relay) = try await LinkConformanceTests.relay()
        defer { relay.signal(SIGKILL) }
        let first = try await TestSender.send([Self.message("a"), Self.message("a"), Self.message("b")], to: .unix(path: socket))
        #expect(first.acked == 3 && first.bye == nil, "\(first)")
        let again = try await TestSender.send([Self.message("a"), Self.message("c")], to: .unix(path: socket))
        #expect(again.acked == 2, "\(again)")
        #expect(await Self.output(dir, count: 3) == ["a", "b", "c"], "\(relay.stderr)")

        let (offDir, offSocket, off) = try await LinkConformanceTests.relay(["--recent-ids", "0"])
        defer { off.signal(SIGKILL) }
        _ = try await TestSender.send([Self.message("a"), Self.message("a")], to: .unix(path: offSocket))
        _ = try await TestSender.send([Self.message("a")], to: .unix(path: offSocket))
        #expect(await Self.output(offDir, count: 3) == ["a", "a", "a"])
    }

    @Test("replay sends logged ids again on purpose: they are processed, not dropped")
    func replayIsNotDropped() async throws {
        let (dir, socket, relay) = try await LinkConformanceTests.relay()
        defer { relay.signal(SIGKILL) }
        let log = dir.appendingPathComponent("log.jsonl")
        try (["a", "b"].map { Self.message($0).jsonLine }.joined(separator: "\n") + "\n").write(to: log, atomically: true, encoding: .utf8)
        for _ in 0..<2 {
            let replay = try await RunnelProcess.run(["replay", log.path, "--to", "unix:" + socket, "--no-progress"])
            #expect(replay.status == 0, "\(replay.stderr)")
        }
        #expect(await Self.output(dir, count: 4) == ["a", "b", "a", "b"], "\(relay.stderr)")
    }

    /// The next stage never acks, so "a" is never finished; its sender gives up on the link and
    /// sends it again on a new one, as after a crash: it must be processed again, not dropped.
    @Test("a redelivery of a message that was not finished is processed again")
    func unfinishedRedeliveryIsProcessed() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let downPath = dir.appendingPathComponent("down.sock").path
        let listener = try await LinkListener.bind(.unix(path: downPath))
        let seen = Mutex<[String]>([])
        let serving = Task {
            try await listener.serve { connection in
                try? await connection.run { reader, writer in
                    _ = try await Handshake(local: Hello(stage: "never-acks", accepts: ["*"])).accept(&reader, writer)
                    try writer.send(.credit(100))
                    while let input = try await reader.next() {
                        if case let .line(.data(envelope)) = input { seen.withLock { $0.append(envelope.id) } }
                    }
                }
            }
        }
        defer {
            serving.cancel()
            listener.close()
        }
        let socket = dir.appendingPathComponent("relay.sock").path
        let relay = try BackgroundProcess(
            ["relay", "--listen", "unix:" + socket, "--to", "unix:" + downPath, "--log-level", "debug"], in: dir, name: "relay")
        defer { relay.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })
        for _ in 0..<2 {
            // The sender gives up after 2 s and closes the link (its read then ends in an error).
            let sent = try? await TestSender.send([Self.message("a")], to: .unix(path: socket), timeout: .seconds(2))
            #expect((sent?.acked ?? 0) == 0, "never acked downstream, so never acked upstream")
        }
        #expect(await eventually(timeout: .seconds(20)) { seen.withLock { $0.count } >= 2 }, "\(seen.withLock { $0 }); \(relay.stderr)")
        #expect(!relay.stderr.contains("it was finished"), "\(relay.stderr)")
    }
}
