import Foundation
import Testing

/// A supervisor killed with SIGKILL (or by the OOM killer) leaves its control socket behind.
/// `runnel status` without --name counted every such socket as a running pipeline: after a few,
/// it answered "several pipelines are running" for ever, with none running.
@Suite("Control sockets whose supervisor is gone")
struct StaleControlSocketTests {
    @Test("runnel status, stop and top pass over control sockets no one listens on")
    func staleSockets() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Two run directories whose control socket was bound and listened on, then left as a
        // dead process leaves it: the file stays, and a connection is refused.
        for name in ["ghost-a", "ghost-b"] {
            let run = dir.appendingPathComponent("runnel/\(name)")
            try FileManager.default.createDirectory(at: run, withIntermediateDirectories: true)
            let made = try await RunnelProcess.exec(
                "/usr/bin/env",
                ["python3", "-c", "import socket, sys; s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(); s.close()",
                 run.appendingPathComponent("control.sock").path])
            #expect(made.status == 0, "\(made.stderr)")
        }
        for command in ["status", "stop", "top"] {
            let result = try await RunnelProcess.exec(RunnelProcess.runnel, [command], environment: ["XDG_RUNTIME_DIR": dir.path])
            #expect(result.status == 69, "\(command): \(result.status) \(result.stderr)")
            #expect(result.stderr.contains("no pipeline is running"), "\(command): \(result.stderr)")
            #expect(result.stderr.contains("2 left behind by supervisors that are gone"), "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("several pipelines"), "\(command): \(result.stderr)")
        }
    }
}
