import RunnelProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A child process started with `posix_spawnp`: its pipes, its exit, its signals.
///
/// By default the child gets `/dev/null` on stdin, pipes on stdout and stderr, a clean signal
/// mask, default signal handlers, and its own process group (so a terminal's Ctrl-C reaches only
/// this process, which decides what its children get). Its exit is collected on SIGCHLD by the
/// ``ChildReaper``; when this process exits normally, children still running get SIGTERM.
///
/// ```swift
/// let child = try ChildProcess.launch(.init(["jq", "-c", ".body"], standardInput: .pipe))
/// async let answers = child.standardOutput!.readLines(maxLength: 1 << 20) { print($0) }
/// try await child.standardInput!.withWriter { try await $0.write(ByteBuffer(string: "{\"body\":1}\n")) }
/// try await answers
/// print(await child.exit())                      // exit status 0
/// ```
public final class ChildProcess: Sendable {
    /// What a child is started with. Every field has a default but the arguments.
    public struct Configuration: Sendable {
        /// Where the child's stdin comes from.
        public enum Input: Sendable, Hashable {
            /// `/dev/null`: it reads end of file at once.
            case null
            /// This process's stdin.
            case inherit
            /// A pipe this process writes: ``ChildProcess/standardInput``.
            case pipe
        }

        /// Where the child's stdout or stderr goes.
        public enum Output: Sendable, Hashable {
            /// `/dev/null`.
            case null
            /// This process's descriptor.
            case inherit
            /// A pipe this process reads: ``ChildProcess/standardOutput``, ``standardError``.
            case pipe
        }

        /// The program (looked up on `PATH` unless it holds a `/`) and its arguments.
        public var arguments: [String]
        /// The child's whole environment; `nil`: this process's.
        public var environment: [String: String]?
        public var standardInput: Input
        public var standardOutput: Output
        public var standardError: Output
        /// Descriptors the child inherits, by the number it sees: `[3: listening]` hands it a
        /// listening socket as fd 3 (the descriptor stays open here too).
        public var inheritedDescriptors: [Int32: Int32]
        /// Start the child in a process group of its own (``ChildProcess/signal(_:)`` then
        /// reaches its children too), rather than in this process's group.
        public var ownProcessGroup: Bool
        /// Send SIGTERM to the child's group when this process exits normally (`exit`, or the
        /// end of `main`) and it is still running. A SIGKILL of this process cannot be caught:
        /// a child reading a pipe from it then sees end of file.
        public var terminateAtExit: Bool
        /// The directory the child starts in; `nil`: this process's.
        public var workingDirectory: String?

        public init(
            _ arguments: [String], environment: [String: String]? = nil, standardInput: Input = .null,
            standardOutput: Output = .pipe, standardError: Output = .pipe, inheritedDescriptors: [Int32: Int32] = [:],
            ownProcessGroup: Bool = true, terminateAtExit: Bool = true, workingDirectory: String? = nil
        ) {
            self.arguments = arguments
            self.environment = environment
            self.standardInput = standardInput
            self.standardOutput = standardOutput
            self.standardError = standardError
            self.inheritedDescriptors = inheritedDescriptors
            self.ownProcessGroup = ownProcessGroup
            self.terminateAtExit = terminateAtExit
            self.workingDirectory = workingDirectory
        }
    }

    public let pid: pid_t
    /// The child's process group when it has its own (equal to ``pid``), else `nil`.
    public let processGroup: pid_t?
    /// The program as given (`jq`), for messages.
    public let program: String
    /// The write end of its stdin, with ``Configuration/Input/pipe``.
    public let standardInput: ProcessInput?
    /// The read end of its stdout, with ``Configuration/Output/pipe``.
    public let standardOutput: ProcessOutput?
    /// The read end of its stderr, with ``Configuration/Output/pipe``.
    public let standardError: ProcessOutput?
    let cell: ExitCell

    init(
        pid: pid_t, processGroup: pid_t?, program: String, cell: ExitCell, standardInput: ProcessInput?,
        standardOutput: ProcessOutput?, standardError: ProcessOutput?
    ) {
        self.pid = pid
        self.processGroup = processGroup
        self.program = program
        self.cell = cell
        self.standardInput = standardInput
        self.standardOutput = standardOutput
        self.standardError = standardError
    }

    /// Starts a child.
    /// - Throws: ``ProcessError``: `notFound` (a shell's 127) for a program not on `PATH`,
    ///   `notExecutable` (126), `spawnFailed` for pipes or process limits.
    public static func launch(_ configuration: Configuration) throws(ProcessError) -> ChildProcess {
        let spawned = try Spawner.spawn(configuration)
        if configuration.terminateAtExit { ExitTermination.add(spawned.pid, group: configuration.ownProcessGroup) }
        guard let cell = ChildReaper.shared.watch(spawned.pid) else {
            // Cannot happen for a child just started, unless someone reaped it with waitpid(-1).
            ExitTermination.remove(spawned.pid)
            let cell = ExitCell()
            cell.resolve(.exited(-1))
            return ChildProcess(spawned, configuration, cell: cell)
        }
        if cell.status != nil { ExitTermination.remove(spawned.pid) }
        return ChildProcess(spawned, configuration, cell: cell)
    }

    private convenience init(_ spawned: Spawner.Result, _ configuration: Configuration, cell: ExitCell) {
        self.init(
            pid: spawned.pid, processGroup: configuration.ownProcessGroup ? spawned.pid : nil,
            program: configuration.arguments.first ?? "", cell: cell,
            standardInput: spawned.stdin.map(ProcessInput.init(descriptor:)),
            standardOutput: spawned.stdout.map(ProcessOutput.init(descriptor:)),
            standardError: spawned.stderr.map(ProcessOutput.init(descriptor:)))
    }

    /// Waits for the child to exit (on SIGCHLD, no thread blocked) and returns how it ended.
    /// Any number of tasks may wait; each gets the status, also after the child was reaped.
    public func exit() async -> ProcessExit {
        await cell.waitIgnoringCancellation()
    }

    /// Waits for the exit up to `timeout`.
    /// - Returns: how it ended, or `nil` if it still runs after `timeout` (or the task was
    ///   cancelled).
    public func exit(timeout: Duration) async -> ProcessExit? {
        if let status = cell.status { return status }
        return await withTaskGroup(of: ProcessExit?.self) { group in
            group.addTask { [cell] in await cell.wait() }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            if first == nil { ChildReaper.shared.reapNow() }
            return first ?? cell.status
        }
    }

    /// How it ended, if it has exited and been reaped; `nil` while it runs.
    public var exitStatus: ProcessExit? { cell.status }

    /// Sends `signal` to the child's process group (or to the child alone when it shares this
    /// process's group, or `toGroup` is false).
    /// - Returns: false when the child has already been reaped (nothing is sent: its pid may
    ///   belong to another process by now) or `kill` failed.
    @discardableResult
    public func signal(_ signal: Int32, toGroup: Bool = true) -> Bool {
        guard cell.status == nil else { return false }
        let target = toGroup ? processGroup.map { -$0 } ?? pid : pid
        return kill(target, signal) == 0
    }

    /// Stops the child: SIGTERM to its group, then SIGKILL if it still runs after `grace`.
    /// - Returns: how it ended.
    @discardableResult
    public func terminate(grace: Duration) async -> ProcessExit {
        signal(SIGTERM)
        signal(SIGCONT)  // a stopped child must run to see SIGTERM
        if let status = await exit(timeout: grace) { return status }
        signal(SIGKILL)
        while true {
            // SIGKILL cannot be ignored: this ends at its SIGCHLD, or at the check on a timeout.
            if let status = await exit(timeout: .seconds(1)) { return status }
            if Task.isCancelled { return await exit() }
        }
    }

    // MARK: The interface the supervisor started with

    /// What ``spawn(_:environment:listening:inheritStdin:)`` started: the pid and the read ends
    /// of its stdout and stderr, which the caller owns (and closes).
    public struct Spawned: Sendable {
        public var pid: pid_t
        /// The read ends of the child's stdout and stderr.
        public var stdout: Int32
        public var stderr: Int32
    }

    /// Starts a stage process: an inherited listening socket at fd 3 (`LISTEN_FDS=1`, as systemd
    /// does), stdout and stderr to pipes, in its own process group. The caller reaps it (with
    /// `waitpid(pid, WNOHANG)`, or ``ChildReaper/exit(of:)``); it is not sent SIGTERM at exit.
    /// - Throws: ``RunnelError`` naming the program when it cannot be started
    ///   (`FAILED_PRECONDITION` for a missing or non-executable program).
    public static func spawn(
        _ arguments: [String], environment: [String: String], listening: Int32?, inheritStdin: Bool = false
    ) throws(RunnelError) -> Spawned {
        var environment = environment
        if listening != nil { environment["LISTEN_FDS"] = "1" }
        let configuration = Configuration(
            arguments, environment: environment, standardInput: inheritStdin ? .inherit : .null,
            inheritedDescriptors: listening.map { [3: $0] } ?? [:], terminateAtExit: false)
        do {
            let spawned = try Spawner.spawn(configuration)
            return Spawned(pid: spawned.pid, stdout: spawned.stdout ?? -1, stderr: spawned.stderr ?? -1)
        } catch {
            throw error.runnelError
        }
    }

    /// Decodes a `waitpid` status.
    public static func decode(_ status: Int32) -> ProcessExit { ProcessExit(waitStatus: status) }

    /// Where `program` would be found, as `posix_spawnp` looks: itself when it holds a `/`, else
    /// the first executable file of that name in `PATH`'s directories.
    /// - Throws: ``ProcessError`` `notFound` or `notExecutable`, as starting it would.
    public static func resolve(_ program: String, path: String? = nil) throws(ProcessError) -> String {
        func check(_ candidate: String) -> Int32 {
            var info = stat()
            guard stat(candidate, &info) == 0 else { return errno }
            if (info.st_mode & S_IFMT) == S_IFDIR { return EISDIR }
            return access(candidate, X_OK) == 0 ? 0 : errno
        }
        if program.isEmpty { throw ProcessError(spawning: program, errno: ENOENT) }
        if program.contains("/") {
            let result = check(program)
            if result != 0 { throw ProcessError(spawning: program, errno: result) }
            return program
        }
        let directories = (path ?? getenv("PATH").map { String(cString: $0) } ?? "/bin:/usr/bin").split(
            separator: ":", omittingEmptySubsequences: false)
        var denied: Int32?
        for directory in directories {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            switch check(candidate) {
            case 0: return candidate
            case ENOENT, ENOTDIR: continue
            case let other: denied = denied ?? other
            }
        }
        throw ProcessError(spawning: program, errno: denied ?? ENOENT)
    }
}

/// The process groups to send SIGTERM when this process exits normally.
enum ExitTermination {
    private static let groups = Mutex<[pid_t: Bool]>([:])
    private static let installed: Void = { atexit { ExitTermination.terminateAll() } }()

    static func add(_ pid: pid_t, group: Bool) {
        _ = installed
        groups.withLock { $0[pid] = group }
    }

    static func remove(_ pid: pid_t) {
        _ = groups.withLock { $0.removeValue(forKey: pid) }
    }

    private static func terminateAll() {
        let running = groups.withLock { $0 }
        for (pid, group) in running {
            // Only children not yet reaped are in the table, so the pid is still theirs.
            kill(group ? -pid : pid, SIGTERM)
            kill(group ? -pid : pid, SIGCONT)
        }
    }
}
