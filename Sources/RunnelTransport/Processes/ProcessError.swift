import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

/// Why a child process could not be started: a code, a message a person can act on, and the
/// `errno` behind it.
///
/// A shell answers a missing command with status 127 and one it cannot execute with 126;
/// ``shellStatus`` says which, so a command can exit as a shell would:
///
/// ```swift
/// do {
///     _ = try ChildProcess.launch(.init(["nosuchcmd"]))
/// } catch {
///     print(error.message)       // command not found: nosuchcmd
///     exit(error.shellStatus)    // 127
/// }
/// ```
public struct ProcessError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// No such program (on `PATH`, or at the path given).
        case notFound
        /// The program exists but cannot be executed (permissions, not an executable).
        case notExecutable
        /// Anything else: pipes, descriptors, process limits.
        case spawnFailed
    }

    public var code: Code
    /// The program as the caller named it.
    public var program: String
    /// `command not found: nosuchcmd`, `cannot execute ./notes.txt: Permission denied`.
    public var message: String
    /// The `errno` that `posix_spawnp` (or a system call before it) returned.
    public var errno: Int32

    public init(_ code: Code, program: String, message: String, errno: Int32) {
        self.code = code
        self.program = program
        self.message = message
        self.errno = errno
    }

    /// Classifies an `errno` from `posix_spawnp` for `program`.
    init(spawning program: String, errno: Int32) {
        let reason = String(cString: strerror(errno))
        switch errno {
        case ENOENT, ENOTDIR:
            self.init(.notFound, program: program, message: "command not found: \(program)", errno: errno)
        case EACCES, EPERM, ENOEXEC, EISDIR:
            self.init(.notExecutable, program: program, message: "cannot execute \(program): \(reason)", errno: errno)
        default:
            self.init(.spawnFailed, program: program, message: "cannot start \(program): \(reason)", errno: errno)
        }
    }

    /// 127 for a missing command, 126 for one that cannot be executed, 1 otherwise (as a shell).
    public var shellStatus: Int32 {
        switch code {
        case .notFound: 127
        case .notExecutable: 126
        case .spawnFailed: 1
        }
    }

    /// The same failure as a ``RunnelError``: `FAILED_PRECONDITION` for a program that is missing
    /// or not executable (nothing a retry mends), `UNAVAILABLE` for a resource that may come back.
    public var runnelError: RunnelError {
        RunnelError(code == .spawnFailed ? .unavailable : .failedPrecondition, message, cause: self)
    }

    public var description: String { message }
}
