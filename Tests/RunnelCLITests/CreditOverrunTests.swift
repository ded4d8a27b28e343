import Foundation
import RunnelProtocol
import RunnelTesting
import RunnelTransport
import Testing

/// A receiver enforces the credit it grants (PROTOCOL.md §7.3): a sender that ignores it is told
/// `RESOURCE_EXHAUSTED` and cut off, and the stage goes on serving others.
@Suite("Credit is enforced by the receiver")
struct CreditOverrunTests {
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
}
