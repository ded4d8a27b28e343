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

    /// A stage run inside this test process leaves SIGTERM and SIGINT ignored here (its signal
    /// sources need that); Foundation's `Process` would hand that on, and a helper a script
    /// starts in the background would then outlive its `kill`, holding the test for ever.
    @Test("children start with the default action for SIGTERM and SIGINT, whatever this process ignores", .timeLimit(.minutes(1)))
    func defaultSignalActions() async throws {
        signal(SIGTERM, SIG_IGN)  // as any in-process stage leaves it
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
