import Foundation
import NIOCore
import RunnelTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The process layer against real children (`sh`, `cat`, `sleep`): exits collected on SIGCHLD,
/// signals to process groups, stdin and stdout through pipes. Nothing sleeps to wait for a
/// state: each test waits on an event (a line, end of file, an exit), and the suite's time
/// limit bounds a wait that never ends.
@Suite(.timeLimit(.minutes(1)))
struct ChildProcessTests {
    private func sh(_ script: String, input: ChildProcess.Configuration.Input = .null) throws -> ChildProcess {
        try ChildProcess.launch(.init(["/bin/sh", "-c", script], standardInput: input, standardError: .inherit))
    }

    /// Every line the child prints on stdout, up to its end of file.
    private func lines(_ child: ChildProcess) async throws -> [String] {
        var lines: [String] = []
        try await child.standardOutput!.readLines(maxLength: 1 << 16) { line in
            if case let .line(bytes) = line { lines.append(String(decoding: bytes, as: UTF8.self)) }
        }
        return lines
    }

    @Test("exit statuses and signals are decoded")
    func exitStatuses() async throws {
        #expect(await (try sh("exit 3")).exit() == .exited(3))
        #expect(await (try sh("true")).exit() == .exited(0))
        #expect(await (try sh("kill -TERM $$")).exit() == .signaled(SIGTERM))
        #expect(ProcessExit.signaled(SIGKILL).description == "killed by signal 9 (SIGKILL)")
        #expect(ProcessExit.exited(2).description == "exit status 2")
        #expect(ProcessExit(waitStatus: 3 << 8) == .exited(3))
        #expect(ProcessExit.signaled(SIGTERM).shellStatus == 143)
    }

    @Test("exit() answers for a child that has already exited, every time it is asked")
    func exitAfterTheFact() async throws {
        let child = try sh("echo done; exit 5")
        #expect(try await lines(child) == ["done"])
        #expect(await child.exit() == .exited(5))
        #expect(await child.exit() == .exited(5))
        #expect(child.exitStatus == .exited(5))
        #expect(!child.signal(SIGTERM), "a reaped child's pid may be another process's: nothing is sent")
    }

    @Test("a pid that exited before anyone watched it is reaped by the check made when it is watched")
    func watchedAfterExit() async throws {
        // Started unwatched (the supervisor's interface), so no SIGCHLD handler reaps it.
        let spawned = try ChildProcess.spawn(["/bin/sh", "-c", "exit 4"], environment: [:], listening: nil)
        close(spawned.stdout)
        close(spawned.stderr)
        // Block until it is a zombie, without reaping it (WNOWAIT).
        var info = siginfo_t()
        #expect(waitid(P_PID, id_t(spawned.pid), &info, WEXITED | WNOWAIT) == 0)
        #expect(await ChildReaper.shared.exit(of: spawned.pid) == .exited(4))
        #expect(await ChildReaper.shared.exit(of: spawned.pid) == nil, "reaped: no longer a child")
    }

    @Test("many children at once each get their own status")
    func concurrentChildren() async throws {
        let children = try (0..<40).map { try sh("exit \($0)") }
        let statuses = await withTaskGroup(of: (Int, ProcessExit).self) { group in
            for (index, child) in children.enumerated() { group.addTask { (index, await child.exit()) } }
            var statuses: [Int: ProcessExit] = [:]
            for await (index, status) in group { statuses[index] = status }
            return statuses
        }
        for index in 0..<40 { #expect(statuses[index] == .exited(Int32(index))) }
        #expect(children.allSatisfy { $0.exitStatus != nil })
        #expect(Set(children.map(\.pid)).count == 40)
    }

    @Test("a child gets only its own descriptors: one this process opened without FD_CLOEXEC stays here")
    func noStrayDescriptors() async throws {
        // A pipe without FD_CLOEXEC, as Foundation's `Pipe` makes them (another test's, say): a
        // child holding its write end would keep that reader from ever seeing end of file.
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { for fd in ends { close(fd) } }
        var info = stat()
        try #require(fstat(ends[1], &info) == 0)
        let stray = "pipe:[\(info.st_ino)]"

        let child = try ChildProcess.launch(.init(["cat"], standardInput: .pipe, standardOutput: .null, standardError: .inherit))
        // What the child holds open, by number, read from /proc while it runs.
        let held = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(child.pid)/fd").compactMap { fd in
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(child.pid)/fd/\(fd)")).map { (Int(fd) ?? -1, $0) }
        }
        child.standardInput!.close()
        #expect(await child.exit() == .exited(0))
        #expect(!held.map(\.1).contains(stray), "the child holds \(held)")
        #expect(Set(held.map(\.0)).isSuperset(of: [0, 1, 2]), "\(held)")
        // Above 2, nothing from this process: no pipe, no socket. (A file the child opens itself
        // may be there: cat reads its locale's files as it starts, and /proc may be read then.)
        let inherited = held.filter { $0.0 > 2 && ($0.1.hasPrefix("pipe:") || $0.1.hasPrefix("socket:") || $0.1.hasPrefix("anon_inode:")) }
        #expect(inherited.isEmpty, "stdin, stdout, stderr and no descriptor of this process: \(held)")
    }

    @Test("a missing program is a typed error with a shell's 127; one that cannot be executed, 126")
    func missingProgram() throws {
        let missing = #expect(throws: ProcessError.self) { try ChildProcess.launch(.init(["runnel-no-such-command"])) }
        #expect(missing?.code == .notFound)
        #expect(missing?.shellStatus == 127)
        #expect(missing?.message == "command not found: runnel-no-such-command")
        #expect(missing?.runnelError.code == .failedPrecondition)

        let path = "/tmp/runnel-not-executable-\(getpid())"
        #expect(creat(path, 0o644) >= 0)
        defer { unlink(path) }
        let denied = #expect(throws: ProcessError.self) { try ChildProcess.launch(.init([path])) }
        #expect(denied?.code == .notExecutable)
        #expect(denied?.shellStatus == 126)
        #expect(throws: ProcessError.self) { try ChildProcess.resolve("runnel-no-such-command") }
        #expect(try ChildProcess.resolve("sh").hasSuffix("/sh"))
    }

    @Test("a signal to the group reaches the grandchildren")
    func groupSignal() async throws {
        // The grandchild holds stdout open: end of file means it is gone too.
        let child = try sh("sleep 100 & echo $!; wait")
        var grandchild: Int32?
        try await child.standardOutput!.readLines(maxLength: 100) { line in
            guard case let .line(bytes) = line else { return }
            grandchild = Int32(String(decoding: bytes, as: UTF8.self))
            #expect(child.signal(SIGTERM))
        }
        #expect(grandchild != nil)
        #expect(await child.exit() == .signaled(SIGTERM))
    }

    @Test("closing stdin gives the child end of file; its output comes back in order")
    func stdinEndOfFile() async throws {
        let child = try ChildProcess.launch(.init(["cat"], standardInput: .pipe))
        async let output = lines(child)
        try await child.standardInput!.withWriter { writer in
            for index in 0..<2000 { try await writer.write(ByteBuffer(string: "line \(index)\n")) }
        }
        #expect(try await output == (0..<2000).map { "line \($0)" })
        #expect(await child.exit() == .exited(0))
    }

    @Test("lines longer than the limit are reported once and skipped; a last line without newline is kept")
    func longLines() async throws {
        let child = try sh("printf 'short\\n'; head -c 5000 /dev/zero | tr '\\\\0' x; printf '\\nafter\\nlast'")
        var seen: [ProcessOutput.Line] = []
        try await child.standardOutput!.readLines(maxLength: 1000) { seen.append($0) }
        #expect(seen.count == 4)
        #expect(seen.first == .line(Array("short".utf8)))
        if case .tooLong = seen[1] {} else { Issue.record("expected tooLong, got \(seen[1])") }
        #expect(seen.suffix(2) == [.line(Array("after".utf8)), .line(Array("last".utf8))])
    }

    @Test("terminate sends SIGTERM, then SIGKILL to a child that ignores it")
    func terminateEscalates() async throws {
        let child = try sh("trap '' TERM; echo ready; sleep 100")
        var ready = false
        try await child.standardOutput!.readLines(maxLength: 100) { _ in
            guard !ready else { return }
            ready = true
            let started = ContinuousClock.now
            #expect(await child.terminate(grace: .milliseconds(300)) == .signaled(SIGKILL))
            #expect(started.duration(to: .now) >= .milliseconds(300))
        }
        #expect(ready)
        #expect(await child.exit(timeout: .seconds(1)) == .signaled(SIGKILL))
    }

    @Test("exit(timeout:) gives up on a child that runs on, and terminate stops it at once on SIGTERM")
    func exitTimeout() async throws {
        let child = try sh("exec sleep 100")
        #expect(await child.exit(timeout: .milliseconds(50)) == nil)
        #expect(child.exitStatus == nil)
        #expect(await child.terminate(grace: .seconds(10)) == .signaled(SIGTERM))
    }
}
