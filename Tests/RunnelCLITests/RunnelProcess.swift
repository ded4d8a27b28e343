import Foundation
import RunnelTesting
import RunnelTransport
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import Testing

/// Runs the built `runnel` binary (or any program) and collects what it printed.
///
/// The binary is `.build/debug/runnel` under the package root, or `$RUNNEL_BIN`.
struct RunnelProcess {
    struct Result {
        var status: Int32
        var stdout: Data
        var stderr: String
        var stdoutText: String { String(decoding: stdout, as: UTF8.self) }
        var stdoutLines: [String] { stdoutText.split(separator: "\n").map(String.init) }
        var stderrLines: [String] { stderr.split(separator: "\n").map(String.init) }
    }

    static let packageRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    }()

    static let runnel: String = {
        if let path = ProcessInfo.processInfo.environment["RUNNEL_BIN"] { return path }
        return packageRoot.appendingPathComponent(".build/debug/runnel").path
    }()

    /// Runs `runnel ARGS`, feeding `stdin`.
    static func run(_ arguments: [String], stdin: Data = Data(), in directory: URL? = nil) async throws -> Result {
        try await exec(runnel, arguments, stdin: stdin, in: directory)
    }

    /// Runs `/bin/sh -c SCRIPT` with `$RUNNEL` set to the binary.
    static func shell(_ script: String, stdin: Data = Data(), in directory: URL? = nil) async throws -> Result {
        try await exec("/bin/sh", ["-c", script], stdin: stdin, in: directory, environment: ["RUNNEL": runnel])
    }

    /// How long ``exec(_:_:stdin:in:environment:timeout:)`` lets a program run before it kills
    /// its process group: longer than any test's time limit, so that a test is failed by its
    /// own limit first, and a stuck child can never hang the whole run.
    static let defaultTimeout = Duration.seconds(240)

    /// Runs `program ARGS` to its end, or until `timeout`.
    ///
    /// The waiting is done on threads of its own, never on the tests' cooperative pool: it has
    /// one thread per core, and tests run side by side that blocked it while their children ran
    /// would starve every other test's awaits (an in-process server, a deadline) for as long.
    static func exec(
        _ program: String, _ arguments: [String], stdin: Data = Data(), in directory: URL? = nil,
        environment: [String: String] = [:], timeout: Duration = defaultTimeout
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Result, any Error>) in
            Thread {
                continuation.resume(with: Swift.Result {
                    try execBlocking(program, arguments, stdin: stdin, in: directory, environment: environment, timeout: timeout)
                })
            }.start()
        }
    }

    /// ``exec(_:_:stdin:in:environment:timeout:)`` on the calling thread, for the few places
    /// that cannot await (a `static let`, a `deinit`): keep what it runs short, as it holds a
    /// thread of the tests' cooperative pool while it runs.
    ///
    /// The child is started with Runnel's own spawner (``ChildProcess``), not Foundation's
    /// `Process`, for two reasons:
    /// - It starts with the default action for every signal. A test that runs a stage in this
    ///   process leaves SIGTERM and SIGINT ignored here (the stage's signal sources need that),
    ///   and `Process` hands ignored signals on: a helper a script starts in the background and
    ///   later `kill`s would live on.
    /// - It runs in a process group of its own, which a timeout kills whole, and gets no
    ///   descriptor but its three pipes. (On Linux, `Process` learns of an exit when a socket it
    ///   gave the child closes, and every descendant inherits that socket:
    ///   swift-corelibs-foundation#4795. One stray descendant, and `waitUntilExit` never returns.)
    static func execBlocking(
        _ program: String, _ arguments: [String], stdin: Data = Data(), in directory: URL? = nil,
        environment: [String: String] = [:], timeout: Duration = defaultTimeout
    ) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        let child = try ChildProcess.launch(
            .init([program] + arguments, environment: env, standardInput: .pipe, workingDirectory: directory?.path))
        guard let input = child.standardInput?.takeDescriptor(), let output = child.standardOutput?.takeDescriptor(),
            let errors = child.standardError?.takeDescriptor()
        else { throw ProcessError(.spawnFailed, program: program, message: "\(program) started without its pipes", errno: 0) }

        // Feed stdin and drain both outputs side by side, so no pipe fills up and blocks; each
        // on a thread of its own rather than Dispatch's global queue, whose few threads other
        // tests' blocking reads may hold.
        let pipes = DispatchGroup()
        nonisolated(unsafe) var out = Data()
        nonisolated(unsafe) var err = Data()
        func onThread(_ body: @escaping @Sendable () -> Void) {
            pipes.enter()
            Thread {
                body()
                pipes.leave()
            }.start()
        }
        onThread { out = readAll(output); close(output) }
        onThread { err = readAll(errors); close(errors) }
        onThread { writeAll(input, stdin); close(input) }

        // The deadline, a timer rather than a thread that waits: past it, the child's whole group
        // is killed, and the wait below ends. (`exited` keeps a timer that fires as the child
        // exits from claiming it was killed.)
        let state = Mutex((exited: false, timedOut: false))
        let deadline = DispatchWorkItem {
            let kill = state.withLock { state -> Bool in
                state.timedOut = !state.exited
                return state.timedOut
            }
            if kill { child.signal(SIGKILL) }
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds(timeout), execute: deadline)
        var status = exitStatus(of: child)
        state.withLock { $0.exited = true }
        deadline.cancel()

        // A descendant may still hold the pipes (a server the script started in the background):
        // wait a little for it to let go, then kill what is left of the group.
        if pipes.wait(timeout: .now() + 10) == .timedOut {
            kill(-child.pid, SIGKILL)
            if pipes.wait(timeout: .now() + 10) == .timedOut {
                status = -1
                err.append(contentsOf: "\n[RunnelProcess] a process outside \(program)'s group still holds its output".utf8)
            }
        }
        if state.withLock({ $0.timedOut }) {
            err.append(contentsOf: "\n[RunnelProcess] \(program) was still running after \(timeout): killed".utf8)
        }
        return Result(status: status, stdout: out, stderr: String(decoding: err, as: UTF8.self))
    }

    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Blocks until `child` exits, and returns its status as Foundation's `terminationStatus`
    /// does: the exit code, or the signal that ended it.
    ///
    /// `waitid(WNOWAIT)` sees the exit without reaping it: the child's reaper, driven by
    /// SIGCHLD, does that. If it was quicker (`ECHILD`), the status is the one it recorded.
    private static func exitStatus(of child: ChildProcess) -> Int32 {
        var info = siginfo_t()
        while waitid(P_PID, id_t(child.pid), &info, WEXITED | WNOWAIT) != 0 {
            guard errno == EINTR else {
                let deadline = ContinuousClock.now + .seconds(10)
                while child.exitStatus == nil && ContinuousClock.now < deadline { usleep(1_000) }
                switch child.exitStatus {
                case let .exited(code): return code
                case let .signaled(signal): return signal
                case nil: return -1
                }
            }
        }
        return info._sifields._sigchld.si_status
    }

    /// A new empty directory for one test, removed when the test process exits.
    static func temporaryDirectory() throws -> URL {
        try ScratchDirectory.make()
    }
}

/// Reads a descriptor to its end, retrying reads interrupted by a signal.
private func readAll(_ fd: Int32) -> Data {
    var data = Data()
    var buffer = [UInt8](repeating: 0, count: 64 << 10)
    while true {
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n > 0 {
            data.append(contentsOf: buffer[0..<n])
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            return data
        }
    }
}

/// Writes all of `data`, retrying interrupted writes; stops quietly when the reader is gone.
private func writeAll(_ fd: Int32, _ data: Data) {
    let bytes = [UInt8](data)
    var done = 0
    while done < bytes.count {
        let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, $0.count - done) }
        if n > 0 {
            done += n
        } else if n < 0 && errno == EINTR {
            continue
        } else {
            return
        }
    }
}

/// A `runnel` process running in the background, its stdout and stderr going to files.
///
/// Started with Runnel's own spawner, as ``RunnelProcess/execBlocking(_:_:stdin:in:environment:timeout:)``
/// is, and for its reasons: default signal actions, no stray descriptors, and an exit seen on
/// SIGCHLD (Foundation's `Process` on Linux learns of one when a socket every descendant
/// inherits closes: swift-corelibs-foundation#4795, so a stage that outlives its SIGKILLed
/// supervisor would hide the supervisor's exit).
final class BackgroundProcess: @unchecked Sendable {
    let child: ChildProcess
    let stdoutURL: URL
    let stderrURL: URL

    /// Starts `runnel ARGS` (or `program ARGS`) in `directory`; `name` names its output files.
    init(
        _ arguments: [String], in directory: URL, name: String, environment: [String: String] = [:], stdin: URL? = nil,
        program: String = RunnelProcess.runnel
    ) throws {
        stdoutURL = directory.appendingPathComponent("\(name).out")
        stderrURL = directory.appendingPathComponent("\(name).err")
        var env = ProcessInfo.processInfo.environment
        env.merge(environment) { $1 }
        var descriptors: [Int32: Int32] = [:]
        defer { for fd in descriptors.values { close(fd) } }
        for (target, url) in [(Int32(1), stdoutURL), (2, stderrURL)] {
            let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            descriptors[target] = fd
        }
        if let stdin {
            let fd = open(stdin.path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
            descriptors[0] = fd
        }
        // In this process's group, as a shell's `&` would leave it: a test that kills it kills
        // it alone, and whatever it started must stop on its own.
        child = try ChildProcess.launch(
            .init(
                [program] + arguments, environment: env, standardInput: stdin == nil ? .null : .inherit,
                standardOutput: .inherit, standardError: .inherit, inheritedDescriptors: descriptors,
                ownProcessGroup: false, workingDirectory: directory.path))
    }

    var pid: Int32 { child.pid }
    var isRunning: Bool { child.exitStatus == nil }
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    func signal(_ number: Int32) { child.signal(number) }

    /// Waits for the exit, up to `timeout`; kills it past that.
    /// - Returns: as Foundation's `terminationStatus`, the exit code or the signal that ended
    ///   it; -1 when it had to be killed.
    @discardableResult
    func wait(timeout: Duration = .seconds(60)) async -> Int32 {
        switch await child.exit(timeout: timeout) {
        case let .exited(code): return code
        case let .signaled(signal): return signal
        case nil:
            child.signal(SIGKILL)
            _ = await child.exit(timeout: .seconds(30))
            return -1
        }
    }

    /// Waits, up to `timeout`, for a line of stdout or stderr that `matches` accepts, and returns
    /// the first such line; nil when none came in time or the process exited without printing one.
    ///
    ///     let ready = await recv.line(in: .stderr, timeout: .seconds(20)) { $0.contains("listening on") }
    func line(
        in stream: Stream = .stderr, timeout: Duration = .seconds(20), matching matches: (Substring) -> Bool
    ) async -> String? {
        let url = stream == .stdout ? stdoutURL : stderrURL
        func found() -> String? {
            let text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
            return text.split(separator: "\n").first(where: matches).map(String.init)
        }
        // A poll: the process writes the file itself, and no event says a line has come (its
        // exit ends the wait at once).
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let line = found() { return line }
            if !isRunning { return found() }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return found()
    }

    enum Stream { case stdout, stderr }

    /// The TCP port a stage started with `--listen tcp://HOST:0` (or `tls://HOST:0`) was given by
    /// the OS, read from its `listening on … (port N)` line, which it logs at debug level: start it
    /// with `RUNNEL_LOG_LEVEL=debug` (``listeningEnvironment``).
    /// - Throws: when no such line came within `timeout`, with what the process printed.
    func boundPort(timeout: Duration = .seconds(30)) async throws -> Int {
        let line = await line(in: .stderr, timeout: timeout) { $0.contains("listening on") && $0.contains("(port ") }
        guard let line, let start = line.range(of: "(port ")?.upperBound,
              let port = Int(line[start...].prefix { $0.isNumber }), (1...65_535).contains(port)
        else {
            throw BoundPortError(description: "no 'listening on … (port N)' line within \(timeout); running: \(isRunning); stderr: \(stderr)")
        }
        return port
    }

    /// The environment that makes a stage log the port it bound (``boundPort(timeout:)``).
    static let listeningEnvironment = ["RUNNEL_LOG_LEVEL": "debug"]

    struct BoundPortError: Error, CustomStringConvertible { var description: String }

    /// Resident memory in KiB, from /proc.
    var residentKiB: Int? { status("VmRSS:") }

    /// The most resident memory the process has had, in KiB, from /proc.
    var peakResidentKiB: Int? { status("VmHWM:") }

    private func status(_ field: String) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(field) {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1])
        }
        return nil
    }

    deinit {
        child.signal(SIGKILL)
    }
}

/// Waits until `condition` holds, polling, up to `timeout`.
///
/// Only for states that no event announces (a file another process writes, a command's answer
/// changing): wait on the event where there is one (``BackgroundProcess/wait(timeout:)``,
/// ``BackgroundProcess/line(in:timeout:matching:)``).
func eventually(timeout: Duration = .seconds(10), _ condition: () async -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return await condition()
}

/// Ids of the JSON lines in `text`.
func messageIDs(_ text: String) -> [String] {
    text.split(separator: "\n").compactMap { line in
        (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["id"] as? String
    }
}

func writeMessages(_ count: Int, to url: URL, bodyBytes: Int = 100) throws {
    var text = ""
    text.reserveCapacity(count * (bodyBytes + 80))
    let filler = String(repeating: "x", count: bodyBytes)
    for i in 0..<count {
        text += #"{"id":"m\#(i)","type":"url.requested","body":{"url":"https://example.vn/\#(i)","note":"\#(filler)"}}"# + "\n"
    }
    try text.write(to: url, atomically: true, encoding: .utf8)
}

/// Waits up to `timeout` for a `Process` started elsewhere (whose termination handler is not
/// ours) to exit: a thread of its own blocks in `waitUntilExit`, so no task polls and no thread of
/// the cooperative pool is held.
/// - Returns: whether it exited in time.
func exited(_ process: Process, timeout: Duration) async -> Bool {
    let event = Event()
    nonisolated(unsafe) let process = process
    Thread {
        process.waitUntilExit()
        event.fire()
    }.start()
    return await event.wait(timeout: timeout)
}

/// Something that happens once (a process's exit), and the tasks waiting for it.
final class Event: Sendable {
    private let state = Mutex<(fired: Bool, waiters: [Int: CheckedContinuation<Bool, Never>], next: Int)>((false, [:], 0))

    func fire() {
        let waiters = state.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.fired = true
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: true) }
    }

    /// Whether it happened within `timeout`.
    func wait(timeout: Duration) async -> Bool {
        let id = state.withLock { state -> Int in
            state.next += 1
            return state.next
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                        let now = self.state.withLock { state -> Bool? in
                            if state.fired { return true }
                            if Task.isCancelled { return false }
                            state.waiters[id] = continuation
                            return nil
                        }
                        if let now { continuation.resume(returning: now) }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.resume(returning: false)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // the deadline; the exit ends the wait first
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || state.withLock { $0.fired }
        }
    }
}
