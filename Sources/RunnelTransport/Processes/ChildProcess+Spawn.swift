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
            // Close-on-exec from the start (pipe2): with pipe() and then fcntl, a child that
            // another thread spawns in between keeps these ends for its whole life, and the
            // reader of this child's stdout waits for that other child's exit to see EOF.
            let made = GlibcExtras.pipe2.map { $0(&ends, O_CLOEXEC) } ?? pipe(&ends)
            guard made == 0 else {
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
        // The child gets 0, 1, 2 and its inherited descriptors, nothing else: whatever else this
        // process has open without FD_CLOEXEC (Foundation's `Pipe` and `FileHandle` set none) would
        // otherwise live on in the child, keeping another child's pipe or a socket open for as
        // long as this child runs. (The actions run in order, after the dup2s above.)
        let firstUnused = (configuration.inheritedDescriptors.keys.max() ?? 2) + 1
        _ = GlibcExtras.addCloseFrom.map { $0(&actions, max(firstUnused, 3)) }
        if let directory = configuration.workingDirectory {
            guard let addChdir = GlibcExtras.addChdir else {
                closeAll()
                throw ProcessError(.spawnFailed, program: program, message: "cannot start \(program) in \(directory): this libc has no posix_spawn_file_actions_addchdir_np", errno: ENOSYS)
            }
            _ = addChdir(&actions, directory)
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

/// glibc functions that the Glibc module does not import (they are declared only under
/// `_GNU_SOURCE` or `__USE_MISC`), looked up once by name; `nil` on a libc without them.
enum GlibcExtras {
    typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>?, Int32) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, Int32) -> Int32
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>?, UnsafePointer<CChar>?) -> Int32

    /// `pipe2(fds, flags)` (glibc 2.9).
    static let pipe2: Pipe2? = symbol("pipe2")
    /// `posix_spawn_file_actions_addclosefrom_np(actions, from)` (glibc 2.34).
    static let addCloseFrom: AddCloseFrom? = symbol("posix_spawn_file_actions_addclosefrom_np")
    /// `posix_spawn_file_actions_addchdir_np(actions, path)` (glibc 2.29).
    static let addChdir: AddChdir? = symbol("posix_spawn_file_actions_addchdir_np")

    private static func symbol<Function>(_ name: String) -> Function? {
        guard let process = dlopen(nil, RTLD_NOW), let address = dlsym(process, name) else { return nil }
        return unsafeBitCast(address, to: Function.self)
    }
}
