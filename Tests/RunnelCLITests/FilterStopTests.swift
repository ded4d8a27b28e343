import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A stage on stdin→stdout reads its input in chunks that can hold thousands of messages (a file
/// of URLs). SIGTERM used to wait for the whole chunk: `runnel fetch < urls.txt`, one polite
/// request a quarter second apart, ran on for minutes after Ctrl-C.
@Suite("A filter stopped mid-input")
struct FilterStopTests {
    @Test("SIGTERM ends a filter after the batch in hand and names the input line the rest begins at", .timeLimit(.minutes(1)))
    func stopsAfterTheBatch() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl")
        // 300 lines of ~110 bytes: one read of the file. 30 batches of 10, 0.2 s each.
        try writeMessages(300, to: input, bodyBytes: 20)
        let relay = try BackgroundProcess(["relay", "--delay", "20ms", "--batch", "10"], in: dir, name: "relay", stdin: input)
        let first = await relay.line(in: .stdout, timeout: .seconds(20)) { $0.contains("\"id\"") }
        #expect(first != nil, "no output: \(relay.stderr)")
        relay.signal(SIGTERM)
        let status = await relay.wait(timeout: .seconds(10))
        #expect(status == 0, "status \(status) (-1: still running 10 s after SIGTERM); \(relay.stderr)")

        let written = messageIDs(relay.stdout)
        #expect(written.count < 300, "the whole input was processed before the stop: \(relay.stderr)")
        #expect(written == (0..<written.count).map { "m\($0)" }, "not the first messages, in order")
        // The rest is named exactly: what was written and what is left add up to the input.
        let note = "\(300 - written.count) messages read were not processed: the input from line \(written.count + 1) on"
        #expect(relay.stderr.contains(note), "expected “\(note)” in: \(relay.stderr)")
        #expect(relay.stderr.contains("relay: \(written.count) in, \(written.count) out"), "\(relay.stderr)")
    }

    @Test("a second SIGTERM cuts the batch in hand short and names the input line its unwritten rest begins at", .timeLimit(.minutes(1)))
    func secondSignal() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(3, to: input, bodyBytes: 20)
        // One message a batch, 3 s each: once the first is out, the second is being worked on;
        // finished, it would be written.
        let relay = try BackgroundProcess(["relay", "--delay", "3s", "--batch", "1"], in: dir, name: "relay", stdin: input)
        let first = await relay.line(in: .stdout, timeout: .seconds(20)) { $0.contains("\"id\"") }
        #expect(first != nil, "no output: \(relay.stderr)")
        relay.signal(SIGTERM)
        // Two signals sent back to back can arrive as one: the second goes once the first was taken.
        let stopping = await relay.line(timeout: .seconds(10)) { $0.contains("stopping after the batch in hand") }
        #expect(stopping != nil, "the first signal was not acknowledged: \(relay.stderr)")
        relay.signal(SIGTERM)
        let status = await relay.wait(timeout: .seconds(10))
        #expect(status == 0, "status \(status); \(relay.stderr)")
        #expect(relay.stderr.contains("cutting the batch in hand short"), "\(relay.stderr)")
        // The first message was written; the batch in hand was cut, and it and the rest are named.
        #expect(messageIDs(relay.stdout) == ["m0"])
        #expect(relay.stderr.contains("2 messages read were not processed: the input from line 2 on"), "\(relay.stderr)")
        #expect(relay.stderr.contains("relay: 1 in, 1 out"), "\(relay.stderr)")
    }

    @Test("stopped while its next stage is unreachable, a stream's stage says what it read and never sent", .timeLimit(.minutes(1)))
    func unsentOnStop() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(3, to: input, bodyBytes: 20)
        let nowhere = "unix:" + dir.appendingPathComponent("nobody.sock").path
        for (name, arguments, note) in [
            ("stdin", ["relay", "--to", nowhere], "3 messages read from stdin were not sent: give them again"),
            ("file", ["send", nowhere, input.path], "3 messages read were not sent; with no --cursor a next run starts again"),
            ("cursor", ["send", nowhere, input.path, "--cursor", dir.appendingPathComponent("c").path], "3 messages not sent yet are left for the next run"),
        ] {
            let stage = try BackgroundProcess(
                arguments + ["--log-level", "debug"], in: dir, name: name, stdin: name == "stdin" ? input : nil)
            // Stopped once it has read its input and failed to reach the next stage, in either
            // order: a stop before the read leaves nothing read to report.
            let read = await stage.line { $0.contains("read 3 messages from") }
            let retrying = await stage.line { $0.contains("retrying with backoff") }
            #expect(read != nil && retrying != nil, "\(name): \(stage.stderr)")
            stage.signal(SIGTERM)
            let status = await stage.wait(timeout: .seconds(20))
            #expect(status == 0, "\(name): status \(status); \(stage.stderr)")
            #expect(stage.stderr.contains(note), "\(name): \(stage.stderr)")
            // Out is 3 when the messages reached the window before the stop, 0 when the stop came
            // between their read and their hand-over to the worker; never sent either way.
            #expect(
                stage.stderr.contains("3 in, 3 out; 3 of them never sent") || stage.stderr.contains("3 in, 0 out; 3 of them never sent"),
                "\(name): \(stage.stderr)")
        }
    }
}
