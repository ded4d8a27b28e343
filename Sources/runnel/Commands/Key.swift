import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// `runnel key`: the shared key that `tcp://` and `tls://` links prove (PROTOCOL.md §7.2).
struct Key: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "key",
        abstract: "Make the shared key that tcp:// and tls:// links prove.",
        discussion: """
            Stages linked over TCP or TLS prove that they hold the same key (an HMAC \
            challenge in hello; the key never crosses the wire). Both ends read it \
            from --key-file FILE or from RUNNEL_KEY; a pipeline file names it with \
            key_file. Unix sockets need no key: they live in a directory only their \
            owner can enter, so `runnel health unix:…` works without one.

              runnel key new runnel.key                      # then copy it to each host
              runnel parse --listen tcp://0.0.0.0:7000 --key-file runnel.key --to …
              RUNNEL_KEY=$(cat runnel.key) runnel run news.toml --host b
            """,
        subcommands: [New.self]
    )

    struct New: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "new",
            abstract: "Write a new random key (32 bytes as 64 hex digits) to FILE, readable by you only.",
            discussion: """
                The file is created with mode 0600 and never overwritten unless --force \
                is given (links that use the old key then stop working until every host \
                has the new one). Without FILE the key is printed on stdout.

                  runnel key new runnel.key
                  runnel key new runnel.key --force
                  runnel key new               # on stdout, for a secret store
                """
        )

        @Argument(help: ArgumentHelp("Where to write the key; stdout when left out.", valueName: "file"))
        var file: String?

        @Flag(help: "Replace FILE if it exists.")
        var force = false

        func run() throws {
            let key = KeyFile.make()
            guard let file else {
                print(key)
                return
            }
            do throws(RunnelError) {
                try KeyFile.write(key + "\n", to: file, replacing: force)
            } catch {
                report(error, in: file)
                throw ExitStatus(error).exitCode
            }
        }
    }
}

/// Making and writing shared keys.
enum KeyFile {
    /// 32 bytes from the system's secure random source, as 64 lower-case hex digits: text that
    /// `SharedKey.load` reads as it is (the key is the text, as with `openssl rand -hex 32`).
    static func make() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    /// Writes `text` to a new file at `path` that only its owner may read or write (mode 0600,
    /// whatever the umask). With `replacing`, an existing file is replaced in one rename, so
    /// the path never holds a partial key or another mode.
    /// - Throws: ``RunnelError``: `ALREADY_EXISTS` when the file exists and `replacing` is
    ///   false, `INVALID_ARGUMENT` when what `replacing` would replace is not a file (a device, a
    ///   directory), `PERMISSION_DENIED` or `NOT_FOUND` (no such directory) when it cannot be created.
    static func write(_ text: String, to path: String, replacing: Bool) throws(RunnelError) {
        var existing = stat()
        if replacing, lstat(path, &existing) == 0, existing.st_mode & S_IFMT != S_IFREG, existing.st_mode & S_IFMT != S_IFLNK {
            // The rename would put a key file where a device or a directory was (as root,
            // `--force /dev/full` replaced the device).
            throw RunnelError(.invalidArgument, "\(path) is not a file; --force replaces a key file only, so pass the key file's path")
        }
        let target = replacing ? path + ".new-\(getpid())" : path
        let fd = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            switch errno {
            case EEXIST:
                throw RunnelError(
                    .alreadyExists,
                    "\(path) exists; keep it, pass another file, or --force to replace it (links that use the old key stop working)")
            case ENOENT:
                throw RunnelError(.notFound, "cannot create \(path) (\(reason)); create its directory first")
            default:
                throw RunnelError.posix(errno, "cannot create \(path)")
            }
        }
        var failure: Int32?
        if fchmod(fd, 0o600) != 0 { failure = errno }
        let bytes = Array(text.utf8)
        var written = 0
        while failure == nil && written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { failure = n < 0 ? errno : ENOSPC } else { written += n }
        }
        if failure == nil && fsync(fd) != 0 { failure = errno }
        close(fd)
        if failure == nil && replacing && rename(target, path) != 0 { failure = errno }
        if let failure {
            unlink(target)
            throw RunnelError.posix(failure, "cannot write \(path)")
        }
    }
}
