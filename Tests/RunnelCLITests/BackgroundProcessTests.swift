import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// The harness itself: what the supervisor tests rely on when they kill a process.
@Suite("BackgroundProcess")
struct BackgroundProcessTests {
    /// Foundation alone would wait here for the sleep too (swift-corelibs-foundation#4795): the
    /// shell's child inherits the socket through which `Process` learns of the exit.
    @Test("a process whose child outlives it is seen to exit, with its status", .timeLimit(.minutes(1)))
    func exitWithLiveChild() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let shell = try BackgroundProcess(
            ["-c", "sleep 600 & echo $! > child.pid; exit 3"], in: dir, name: "shell", program: "/bin/sh")
        let status = await shell.wait(timeout: .seconds(20))
        let child = Int32((try? String(contentsOf: dir.appendingPathComponent("child.pid"), encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines) ?? "")
        if let child { kill(child, SIGKILL) }
        #expect(status == 3)
        #expect(!shell.isRunning)
        #expect(child != nil, "the shell started its child")
    }

    @Test("a process killed by a signal reports the signal", .timeLimit(.minutes(1)))
    func killed() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sleeper = try BackgroundProcess(["600"], in: dir, name: "sleep", program: "/bin/sleep")
        #expect(sleeper.isRunning)
        sleeper.signal(SIGKILL)
        #expect(await sleeper.wait(timeout: .seconds(20)) == SIGKILL)
        #expect(!sleeper.isRunning)
    }

    /// A stage run inside this test process used to leave SIGTERM and SIGINT ignored here (its
    /// dispatch signal sources needed that); Foundation's `Process` hands that on, and a helper
    /// a script started in the background then outlived its `kill`, holding the test for ever.
    @Test("children start with the default action for SIGTERM and SIGINT, whatever this process ignores", .timeLimit(.minutes(1)))
    func defaultSignalActions() async throws {
        // Ignored, as a stage using a dispatch signal source leaves them; put back at the end,
        // as other tests' in-process stages watch them (SignalWatch).
        var saved = (sigaction(), sigaction())
        sigaction(SIGTERM, nil, &saved.0)
        sigaction(SIGINT, nil, &saved.1)
        defer {
            sigaction(SIGTERM, &saved.0, nil)
            sigaction(SIGINT, &saved.1, nil)
        }
        signal(SIGTERM, SIG_IGN)
        signal(SIGINT, SIG_IGN)
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func ignored(_ text: String) -> UInt64? {
            text.split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
                .flatMap { UInt64($0.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) }
        }
        let blocked = { (mask: UInt64, signal: Int32) in mask & (1 << UInt64(signal - 1)) != 0 }

        let result = try await RunnelProcess.exec("/bin/cat", ["/proc/self/status"])
        let mask = try #require(ignored(result.stdoutText), "\(result.stdoutText)")
        #expect(!blocked(mask, SIGTERM) && !blocked(mask, SIGINT), "SigIgn \(String(mask, radix: 16))")

        let background = try BackgroundProcess(["/proc/self/status"], in: dir, name: "cat", program: "/bin/cat")
        #expect(await background.wait(timeout: .seconds(20)) == 0)
        let backgroundMask = try #require(ignored(background.stdout), "\(background.stdout)")
        #expect(!blocked(backgroundMask, SIGTERM) && !blocked(backgroundMask, SIGINT), "SigIgn \(String(backgroundMask, radix: 16))")

        // What the PostgreSQL test's script does: a helper started in the background, killed at the end.
        let script = try await RunnelProcess.shell("sleep 600 & helper=$!; kill $helper; wait $helper; echo $?")
        #expect(script.stdoutText == "143\n", "the helper ends on SIGTERM: \(script.stdoutText) \(script.stderr)")
    }

    @Test("a command past its timeout is killed with its whole process group, and says so", .timeLimit(.minutes(1)))
    func execTimeout() async throws {
        let started = ContinuousClock.now
        let result = try await RunnelProcess.exec("/bin/sh", ["-c", "sleep 600 & sleep 600"], timeout: .seconds(1))
        #expect(result.status == SIGKILL)
        #expect(result.stderr.contains("still running after 1"), "\(result.stderr)")
        #expect(ContinuousClock.now - started < .seconds(30), "the background sleep, killed with its group, let go of the output")
    }
}
