/// How a child process ended, decoded from a `waitpid` status.
///
/// ```swift
/// let child = try ChildProcess.launch(.init(["sh", "-c", "exit 3"]))
/// let status = await child.exit()      // .exited(3)
/// print(status)                        // exit status 3
/// print(ProcessExit.signaled(9))       // killed by signal 9 (SIGKILL)
/// ```
public enum ProcessExit: Sendable, Hashable, CustomStringConvertible {
    /// It called `exit` (or returned from `main`) with this status.
    case exited(Int32)
    /// A signal ended it.
    case signaled(Int32)

    /// Decodes a `waitpid` status (the WIFEXITED/WTERMSIG macros are not imported into Swift).
    public init(waitStatus status: Int32) {
        let signal = status & 0x7F
        self = signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }

    /// Whether it exited with status 0.
    public var isNormal: Bool { self == .exited(0) }

    /// The status a shell reports for it: the exit status, or 128 + the signal.
    public var shellStatus: Int32 {
        switch self {
        case let .exited(code): code
        case let .signaled(signal): 128 + signal
        }
    }

    /// `exit status 3`, `killed by signal 9 (SIGKILL)`.
    public var description: String {
        switch self {
        case let .exited(code): "exit status \(code)"
        case let .signaled(signal): "killed by signal \(signal)\(Self.signalName(signal).map { " (\($0))" } ?? "")"
        }
    }

    /// The name of a common signal (`SIGTERM`), or `nil`.
    public static func signalName(_ signal: Int32) -> String? {
        [1: "SIGHUP", 2: "SIGINT", 3: "SIGQUIT", 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 13: "SIGPIPE", 15: "SIGTERM"][signal]
    }
}
