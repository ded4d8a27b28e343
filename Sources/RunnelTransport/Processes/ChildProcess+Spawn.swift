#if canImport(Glibc)
import Glibc
#endif

/// The `posix_spawnp` call behind ``ChildProcess``.
enum Spawner {
    struct Result {
        var pid: pid_t
        /// This process's ends of the pipes it made.
        var stdin: Int32?
        var stdout: Int32?
        var stderr: Int32?
    }

    /// Writing to a child that exited must fail with EPIPE, not kill this process: set once,
    /// before the first pipe. Children get the default action back (`POSIX_SPAWN_SETSIGDEF`).
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

    static func spawn(_ configuration: ChildProcess.Configuration) throws(ProcessError) -> Result {
        let arguments = configuration.arguments
        let program = arguments.first ?? ""
        guard !program.isEmpty else { throw ProcessError(spawning: program, errno: ENOENT) }
        _ = ignoreSIGPIPE

        var opened: [Int32] = []  // every descriptor made here, closed on failure
        func closeAll() { for fd in opened { close(fd) } }
        func makePipe() throws(ProcessError) -> (read: Int32, write: Int32) {
            var ends: [Int32] = [-1, -1]
            // pipe2(O_CLOEXEC) is not imported; a child spawned by another thread in between
            // may inherit these ends until it execs (posix_spawn children exec at once).
            guard pipe(&ends) == 0 else {
                let error = errno
                closeAll()
                throw ProcessError(.spawnFailed, program: program, message: "cannot create a pipe for \(program): \(String(cString: strerror(error)))", errno: error)
            }
            opened += ends
            for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
            return (ends[0], ends[1])
        }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        var result = Result(pid: 0)
        var childEnds: [Int32] = []  // closed here once the child has them

        switch configuration.standardInput {
        case .null: posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        case .inherit: break
        case .pipe:
            let ends = try makePipe()
            posix_spawn_file_actions_adddup2(&actions, ends.read, 0)
            result.stdin = ends.write
            childEnds.append(ends.read)
        }
        for (target, setting) in [(Int32(1), configuration.standardOutput), (2, configuration.standardError)] {
            switch setting {
            case .null: posix_spawn_file_actions_addopen(&actions, target, "/dev/null", O_WRONLY, 0)
            case .inherit: break
            case .pipe:
                let ends = try makePipe()
                posix_spawn_file_actions_adddup2(&actions, ends.write, target)
                if target == 1 { result.stdout = ends.read } else { result.stderr = ends.read }
                childEnds.append(ends.write)
            }
        }
        for (target, source) in configuration.inheritedDescriptors.sorted(by: { $0.key < $1.key }) {
            var source = source
            if source == target {
                // dup2 onto itself would keep FD_CLOEXEC: hand over a copy instead.
                source = fcntl(source, F_DUPFD_CLOEXEC, 10)
                guard source >= 0 else {
                    let error = errno
                    closeAll()
                    throw ProcessError(.spawnFailed, program: program, message: "cannot pass descriptor \(target) to \(program): \(String(cString: strerror(error)))", errno: error)
                }
                opened.append(source)
                childEnds.append(source)
            }
            posix_spawn_file_actions_adddup2(&actions, source, target)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if configuration.ownProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let argv = arguments.map { strdup($0) } + [nil]
        let envp = configuration.environment.map { environment in
            environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        }
        defer {
            for p in argv { free(p) }
            for p in envp ?? [] { free(p) }
        }
        var pid: pid_t = 0
        let status =
            if let envp {
                posix_spawnp(&pid, program, &actions, &attributes, argv, envp)
            } else {
                posix_spawnp(&pid, program, &actions, &attributes, argv, environ)
            }
        for fd in childEnds { close(fd) }
        guard status == 0 else {
            for fd in opened where !childEnds.contains(fd) { close(fd) }
            throw ProcessError(spawning: program, errno: status)
        }
        result.pid = pid
        return result
    }
}
