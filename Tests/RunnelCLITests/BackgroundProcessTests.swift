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
}
