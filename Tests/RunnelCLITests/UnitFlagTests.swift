import Foundation
import Testing

/// Every duration and size flag reads one syntax, refuses what it cannot hold with a message
/// (exit 64, never a trap), and still takes last release's spellings with a warning.
@Suite("Flags with units, as the binary reads them")
struct UnitFlagTests {
    @Test(
        "out-of-range and malformed values are usage errors that name the flag, not crashes",
        arguments: [
            (["replay", "-", "--to", "-", "--speed=1e-300"], "--speed takes max or a factor"),
            (["replay", "-", "--to", "-", "--since=-1e300d"], "is not a time"),
            (["replay", "-", "--to", "-", "--ack-timeout", "1e300d"], "--ack-timeout"),
            (["relay", "--ack-timeout", "99999999999999999999s"], "36500 days"),
            (["relay", "--drain-timeout", "soon"], "'soon' is not a duration"),
            (["relay", "--max-line", "2048TiB"], "the most a size may be"),
            (["relay", "--max-line", "12 potatoes"], "is not a unit"),
            (["relay", "--capture-max-bytes", "0"], "--capture-max-bytes must be within 1 byte…1024TiB, not 0 bytes"),
            (["fetch", "--timeout", "0s"], "--timeout must be within"),
            (["parse", "--window-bytes", "10"], "--window-bytes must be within 1KiB…1GiB, not 10 bytes"),
            (["parse", "--window-bytes", "3GiB"], "--window-bytes must be within 1KiB…1GiB, not 3GiB"),
            (["store", "--busy-timeout=-1s"], "is not a duration"),
            (["store", "--batch-wait", "1h"], "--batch-wait must be within 0s…10s, not 1h"),
            (["store", "--busy-timeout", "25d"], "--busy-timeout must be within 0s…1d, not 25d"),  // trapped in SQLite's 32-bit ms
            (["search", "--limit", "3000000000000000000", "x"], "--limit must be at most 1000000"),  // trapped counting candidates
            (["call", "unix:/nowhere.sock", "--timeout", "1e300"], "--timeout"),
        ])
    func refused(arguments: [String], message: String) async throws {
        let result = try await RunnelProcess.run(arguments)
        #expect(result.status == 64, "exit \(result.status): \(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }

    @Test("the old spellings still work, each with a warning that shows the new one")
    func deprecated() async throws {
        let line = #"{"id":"1","type":"x","body":{}}"# + "\n"
        let relay = try await RunnelProcess.run(["relay", "--delay-ms", "5", "--ack-timeout", "30", "--max-line", "64MB"], stdin: Data(line.utf8))
        #expect(relay.status == 0, "\(relay.stderr)")
        #expect(relay.stdoutLines.count == 1)
        #expect(relay.stderr.contains("runnel: warning: --delay-ms 5 is deprecated; write --delay 5ms"), "\(relay.stderr)")
        #expect(relay.stderr.contains("runnel: warning: --ack-timeout 30: a bare number is deprecated; write --ack-timeout 30s"), "\(relay.stderr)")
        #expect(relay.stderr.contains("write --max-line 64MiB"), "\(relay.stderr)")

        let fresh = try await RunnelProcess.run(["relay", "--delay", "5ms", "--ack-timeout", "30s", "--max-line", "64MiB"], stdin: Data(line.utf8))
        #expect(fresh.status == 0)
        #expect(!fresh.stderr.contains("warning"), "\(fresh.stderr)")
    }

    @Test("--since takes how long ago without a minus sign; the old -10m still reads, with a warning")
    func since() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let now = ISO8601DateFormatter().string(from: Date())
        let old = "2001-01-01T00:00:00Z"
        let lines = [
            #"{"id":"old","type":"x","ts":"\#(old)","body":{}}"#,
            #"{"id":"new","type":"x","ts":"\#(now)","body":{}}"#,
        ]
        try (lines.joined(separator: "\n") + "\n").write(to: dir.appendingPathComponent("log.jsonl"), atomically: true, encoding: .utf8)

        let recent = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--since", "10m"], in: dir)
        #expect(recent.status == 0, "\(recent.stderr)")
        #expect(recent.stdoutLines.map { $0.contains(#""id":"new""#) } == [true])
        #expect(!recent.stderr.contains("warning"))

        let legacy = try await RunnelProcess.run(["replay", "log.jsonl", "--to", "-", "--since=-10m"], in: dir)
        #expect(legacy.stdoutLines.count == 1)
        #expect(legacy.stderr.contains("the minus sign is deprecated; write --since 10m"), "\(legacy.stderr)")
    }

    @Test("health and describe give up on a peer that accepts and never answers: DEADLINE_EXCEEDED within --timeout")
    func silentPeer() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let path = dir.appendingPathComponent("silent.sock").path
        let listener = try SilentListener(path: path)
        defer { listener.close() }
        let started = ContinuousClock.now
        let health = try await RunnelProcess.run(["health", "unix:" + path, "--timeout", "300ms"])
        #expect(health.status == 69, "exit \(health.status): \(health.stderr)")
        #expect(health.stderr.contains("DEADLINE_EXCEEDED"), "\(health.stderr)")
        #expect(health.stderr.contains("300ms"), "\(health.stderr)")
        let describe = try await RunnelProcess.run(["describe", "unix:" + path, "--timeout", "300ms"])
        #expect(describe.stderr.contains("DEADLINE_EXCEEDED"), "\(describe.stderr)")
        let call = try await RunnelProcess.run(["call", "unix:" + path, "--timeout", "300ms"], stdin: Data(#"{"id":"1","type":"x","body":{}}"#.utf8))
        #expect(call.stderr.contains("DEADLINE_EXCEEDED"), "\(call.stderr)")
        // Three commands that each waited for their timeout, not for ever (60 s is far above 3 × 300 ms).
        #expect(started.duration(to: .now) < .seconds(60))
    }

    @Test("--help shows each group once, with defaults and examples; send and recv list only their own options")
    func help() async throws {
        let parse = try await RunnelProcess.run(["parse", "--help"]).stdoutText
        for title in ["INPUT:", "OUTPUT:", "RELIABILITY:", "SECURITY:", "OBSERVABILITY:"] {
            #expect(parse.components(separatedBy: title).count == 2, "\(title) once in:\n\(parse)")
        }
        #expect(parse.contains("(e.g. 45s) (default: 30s)"), "\(parse)")
        let send = try await RunnelProcess.run(["send", "--help"]).stdoutText
        for flag in ["--ack-timeout", "--key-file", "--urls", "--cursor"] { #expect(send.contains(flag), "\(flag)") }
        for flag in ["--listen", "--to ", "--batch", "--max-attempts", "--describe", "--capture-in", "--stats-file"] {
            #expect(!send.contains(flag), "send --help shows \(flag)")
        }
        let recv = try await RunnelProcess.run(["recv", "--help"]).stdoutText
        for flag in ["--listen", "--window", "--zstd"] { #expect(recv.contains(flag), "\(flag)") }
        for flag in ["--to ", "--ack-timeout", "--cursor", "--dead-letter", "--capture-in"] {
            #expect(!recv.contains(flag), "recv --help shows \(flag)")
        }
        let health = try await RunnelProcess.run(["health", "--help"]).stdoutText
        #expect(health.contains("--timeout"))
        #expect(!health.contains("--window") && !health.contains("--batch"))
    }
}

/// A Unix socket that accepts connections and never writes a byte: the stuck peer.
final class SilentListener: @unchecked Sendable {
    private let fd: Int32
    private let thread: Thread

    init(path: String) throws {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        fd = descriptor
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            _ = path.utf8CString.withUnsafeBytes { raw.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0.prefix(raw.count - 1))) }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(descriptor, 8) == 0 else { throw POSIXError(.EADDRINUSE) }
        thread = Thread {
            while true {
                let client = accept(descriptor, nil, nil)
                if client < 0 { return }
                // Held open, never read or written, until the test ends.
                _ = Unmanaged.passRetained(FileHandle(fileDescriptor: client, closeOnDealloc: false))
            }
        }
        thread.start()
    }

    func close() {
        shutdown(fd, Int32(SHUT_RDWR))
        Glibc.close(fd)
    }
}
