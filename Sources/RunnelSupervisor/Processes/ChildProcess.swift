import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Starts a stage process with `posix_spawn`: an inherited listening socket at fd 3
/// (`LISTEN_FDS=1`, as systemd does), stdout and stderr to pipes, a clean signal mask and
/// default signal handlers, in its own process group (so a terminal's Ctrl-C reaches only the
/// supervisor, which drains the stages in order).
public enum ChildProcess {
    public struct Spawned: Sendable {
        public var pid: pid_t
        /// The read ends of the child's stdout and stderr.
        public var stdout: Int32
        public var stderr: Int32
    }

    /// - Throws: ``RunnelError`` naming the program when it cannot be started.
    public static func spawn(
        _ arguments: [String], environment: [String: String], listening: Int32?, inheritStdin: Bool = false
    ) throws(RunnelError) -> Spawned {
        var out: [Int32] = [-1, -1]
        var err: [Int32] = [-1, -1]
        guard pipe(&out) == 0, pipe(&err) == 0 else {
            throw RunnelError.posix(errno, "cannot create pipes for \(arguments.first ?? "?")")
        }
        for fd in out + err { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, out[1], 1)
        posix_spawn_file_actions_adddup2(&actions, err[1], 2)
        if !inheritStdin { posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0) }
        if let listening { posix_spawn_file_actions_adddup2(&actions, listening, 3) }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(
            &attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var env = environment
        if listening != nil { env["LISTEN_FDS"] = "1" }
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            for p in argv { free(p) }
            for p in envp { free(p) }
        }
        var pid: pid_t = 0
        let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
        close(out[1])
        close(err[1])
        guard status == 0 else {
            close(out[0])
            close(err[0])
            throw RunnelError.posix(status, "cannot start \(arguments.joined(separator: " "))")
        }
        return Spawned(pid: pid, stdout: out[0], stderr: err[0])
    }

    /// Decodes a `waitpid` status (the WIFEXITED/WTERMSIG macros are not imported into Swift).
    public static func decode(_ status: Int32) -> RestartPolicy.ExitStatus {
        let signal = status & 0x7F
        return signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal)
    }
}
