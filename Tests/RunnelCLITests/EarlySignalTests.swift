import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A supervisor may stop a stage a moment after starting it (a pipeline whose JetStream queues
/// are already empty). A stage that took SIGTERM through a libdispatch signal source ignored
/// the signal first and was given dispatch's handler a little later: one sent in between was
/// lost, the stage ran on, and its supervisor killed it 30 s later.
@Suite("SIGTERM early in a stage's life")
struct EarlySignalTests {
    @Test("a stage sent SIGTERM the moment it stops taking the default action drains and exits 0", .timeLimit(.minutes(3)))
    func signalledAsItStartsWatching() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for round in 0..<10 {
            let socket = dir.appendingPathComponent("r\(round).sock").path
            let relay = try BackgroundProcess(["relay", "--listen", "unix:" + socket, "--to", "-"], in: dir, name: "relay\(round)")
            // The first moment SIGTERM is ignored or caught, as seen from outside: with a
            // dispatch source, that is the window in which it was lost.
            let watching = Self.waitUntilHandled(SIGTERM, pid: relay.pid, timeout: .seconds(20))
            #expect(watching, "round \(round): the stage never took SIGTERM in hand: \(relay.stderr)")
            relay.signal(SIGTERM)
            let status = await relay.wait(timeout: .seconds(15))
            #expect(status == 0, "round \(round): status \(status) (-1: still running 15 s after SIGTERM); \(relay.stderr)")
        }
    }

    /// Polls `/proc/PID/status` as fast as it can until `signal` is ignored or caught.
    static func waitUntilHandled(_ signal: Int32, pid: Int32, timeout: Duration) -> Bool {
        let bit = UInt64(1) << UInt64(signal - 1)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            guard let status = FileManager.default.contents(atPath: "/proc/\(pid)/status") else { return false }
            for line in String(decoding: status, as: UTF8.self).split(separator: "\n")
            where line.hasPrefix("SigIgn:") || line.hasPrefix("SigCgt:") {
                if let mask = UInt64(line.dropFirst(7).trimmingCharacters(in: .whitespaces), radix: 16), mask & bit != 0 { return true }
            }
        }
        return false
    }
}
