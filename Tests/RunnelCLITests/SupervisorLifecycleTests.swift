import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// How `runnel run` ends: a closed output, SIGTERM, and a supervisor killed with SIGKILL leave no
/// stage process and no socket behind, and the next run resumes from the cursor.
@Suite("Supervisor lifecycle", .serialized)
struct SupervisorLifecycleTests {
    /// A slow pipeline (a relay that takes 10 ms a page) that is still running when it is stopped.
    static func slowPipeline(_ base: String, pages: Int = 400) throws -> (dir: URL, name: String, file: URL) {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName(base)
        let stages = """
            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--window", "8"]

            [[stage]]
            name = "relay"
            args = ["--delay", "10ms", "--window", "8", "--batch", "4"]
            """
        let file = try SupervisorTests.pipeline(name, pages: pages, stages: stages, in: dir)
        return (dir, name, file)
    }

    static func cursor(_ dir: URL, _ name: String) -> Int {
        let url = dir.appendingPathComponent(".runnel/\(name)/cursor")
        return Int((try? String(contentsOf: url, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
    }

    static func runDirectory(_ name: String) -> String {
        let base = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"].map { $0 + "/runnel" } ?? "/tmp/runnel-\(getuid())"
        return base + "/" + name
    }

    /// The sockets left in the pipeline's run directory.
    static func sockets(_ name: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: runDirectory(name))) ?? []).filter { $0.hasSuffix(".sock") }
    }

    /// Live processes (not zombies) started by the supervisor `pid`.
    static func children(of supervisor: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let environ = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                environ.split(separator: 0).contains(where: { String(decoding: $0, as: UTF8.self) == "RUNNEL_SUPERVISOR_PID=\(supervisor)" })
            else { return false }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first ?? ""
            return state != "Z" && state != "X"
        }
    }

    @Test("runnel run … 2>&1 | head -1: no crash, a quiet drain, exit 0, no stage and no socket left", .timeLimit(.minutes(2)))
    func closedOutput() async throws {
        let (dir, name, file) = try Self.slowPipeline("head")
        // head takes the first line and goes; the supervisor's next line meets a closed pipe: it
        // drains quietly and exits 0, long before the 400 pages are done.
        let script = "( \"$RUNNEL\" run '\(file.path)' --no-progress 2>&1; echo $? > status ) | head -1 > first"
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", script]
        shell.currentDirectoryURL = dir
        shell.environment = ProcessInfo.processInfo.environment.merging(["RUNNEL": RunnelProcess.runnel]) { $1 }
        try shell.run()
        let first = dir.appendingPathComponent("first")
        #expect(await eventually(timeout: .seconds(30)) { Self.cursor(dir, name) >= 10 })
        let line = (try? String(contentsOf: first, encoding: .utf8)) ?? ""
        #expect(line.hasPrefix("runnel run: starting \(name)"), "\(line)")
        // Make the supervisor say something: "restarting relay" goes to the closed pipe.
        let restart = try await RunnelProcess.run(["restart", "relay", "--name", name])
        #expect(restart.status == 0, "\(restart.stderr)")
        let statusFile = dir.appendingPathComponent("status")
        #expect(await eventually(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: statusFile.path) })
        let code = (try? String(contentsOf: statusFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(code == "0", "runnel run exits 0 on a closed output")
        #expect(Self.cursor(dir, name) < 400, "it stopped instead of running on")
        #expect(Self.processes(of: name).isEmpty, "\(Self.processes(of: name))")
        #expect(Self.sockets(name).isEmpty, "\(Self.sockets(name))")
    }

    /// Live processes whose command line names the pipeline's run directory (its stages do).
    static func processes(of name: String) -> [Int32] {
        let needle = runDirectory(name) + "/"
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
            let state = stat.split(separator: ")").last?.split(separator: " ").first ?? ""
            return String(decoding: cmdline, as: UTF8.self).contains(needle) && state != "Z"
        }
    }

    @Test("SIGTERM drains in order, exits 0, and removes the control and stage sockets", .timeLimit(.minutes(2)))
    func sigterm() async throws {
        let (dir, name, file) = try Self.slowPipeline("term")
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        #expect(await eventually(timeout: .seconds(30)) { Self.cursor(dir, name) >= 10 })
        #expect(Self.sockets(name).contains("control.sock"))
        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.stderr)")
        #expect(run.stderr.contains("stopping the pipeline"), "\(run.stderr)")
        #expect(Self.sockets(name).isEmpty, "\(Self.sockets(name))")
        #expect(Self.children(of: run.pid).isEmpty)
        // Drain order: the source stopped before fetch, fetch before relay (each after the one before).
        let status = try String(contentsOf: run.stderrURL, encoding: .utf8)
        #expect(!status.contains("killing it"), "every stage drained within the timeout: \(status)")
    }

    @Test("a supervisor killed with SIGKILL takes its stages with it; the next run resumes and finishes", .timeLimit(.minutes(3)))
    func killedSupervisor() async throws {
        let (dir, name, file) = try Self.slowPipeline("kill9", pages: 300)
        let first = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "first")
        #expect(await eventually(timeout: .seconds(30)) { Self.cursor(dir, name) >= 10 })
        #expect(await eventually(timeout: .seconds(10)) { Self.children(of: first.pid).count == 3 }, "source, fetch, relay")
        first.signal(SIGKILL)
        _ = await first.wait(timeout: .seconds(10))
        // Each stage notices through its pidfd of the supervisor and is gone within its 2 s grace.
        #expect(await eventually(timeout: .seconds(10)) { Self.children(of: first.pid).isEmpty }, "\(Self.children(of: first.pid))")
        let stopped = Self.cursor(dir, name)
        let second = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "second")
        #expect(await second.wait(timeout: .seconds(120)) == 0, "\(second.stderr)")
        #expect(second.stderr.contains("resuming after line"), "\(second.stderr)")
        #expect(Self.cursor(dir, name) == 300)
        #expect(stopped <= 300)
        // A third run has nothing left to send, and says how to send it all again.
        let third = try await RunnelProcess.run(["run", file.path, "--no-progress"], in: dir)
        #expect(third.status == 0, "\(third.stderr)")
        #expect(third.stderr.contains("all 300 of the source's URLs were done by an earlier run, so this one sends nothing; to send them again: rm "), "\(third.stderr)")
        #expect(Self.sockets(name).isEmpty, "\(Self.sockets(name))")
    }

    @Test(
        "a new run ends the process groups a killed supervisor left (a stage that does not watch it)",
        .timeLimit(.minutes(2)))
    func leftoverGroups() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("leftover")
        // A stage that hides from the watch: it drops RUNNEL_SUPERVISOR_PID for the relay under it,
        // and the shell above it ignores SIGTERM.
        let stages = """
            [[stage]]
            name = "fetch"
            args = ["--allow-files", "pages", "--window", "8"]

            [[stage]]
            name = "stubborn"
            command = ["sh", "-c", "if [ \\"$1\\" = --describe ]; then exec \(RunnelProcess.runnel) relay --describe; fi; trap '' TERM; env -u RUNNEL_SUPERVISOR_PID \(RunnelProcess.runnel) relay --delay 10ms \\"$@\\"; sleep 600", "stubborn"]
            """
        let file = try SupervisorTests.pipeline(name, pages: 300, stages: stages, in: dir)
        let first = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "first")
        #expect(await eventually(timeout: .seconds(30)) { Self.cursor(dir, name) >= 5 })
        let record = dir.appendingPathComponent(".runnel/\(name)/process-groups")
        let groups = ((try? String(contentsOf: record, encoding: .utf8)) ?? "").split(separator: "\n").dropFirst().compactMap { Int32($0) }
        #expect(groups.count == 3, "\(groups)")
        first.signal(SIGKILL)
        _ = await first.wait(timeout: .seconds(10))
        let stubborn = groups.filter { kill(-$0, 0) == 0 }
        #expect(!stubborn.isEmpty, "the stubborn stage outlives its supervisor")
        let second = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "second")
        #expect(await eventually(timeout: .seconds(30)) { second.stderr.contains("previous supervisor") }, "\(second.stderr)")
        #expect(await eventually(timeout: .seconds(10)) { stubborn.allSatisfy { kill(-$0, 0) != 0 } })
        let secondGroups = ((try? String(contentsOf: record, encoding: .utf8)) ?? "").split(separator: "\n").dropFirst().compactMap { Int32($0) }
        second.signal(SIGKILL)
        _ = await second.wait(timeout: .seconds(10))
        for group in secondGroups { kill(-group, SIGKILL) }  // the stubborn stage of this run too
    }

}
