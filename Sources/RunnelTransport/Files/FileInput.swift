#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelProtocol

/// Reads a file or standard input in large chunks, with blocking `read(2)`.
///
/// ```swift
/// let input = try FileInput(path: "-")          // stdin
/// while let chunk = try input.readChunk() { … }
/// ```
public final class FileInput {
    public let path: String
    /// The name to use in messages: the path, or "stdin".
    public var displayName: String { path == "-" ? "stdin" : path }
    private let fd: Int32
    private let ownsDescriptor: Bool
    /// How many bytes a read asks for.
    public let chunkSize: Int
    /// What ``read(_:)`` reads into (``readChunk()`` reads into an array of its own).
    private lazy var buffer = [UInt8](repeating: 0, count: chunkSize)

    /// Opens `path` for reading; `-` is standard input.
    /// - Parameter chunkSize: how much a read asks for; by default 1 MiB from a regular file
    ///   (a line cut between two reads is copied whole, and a page line is ~250 KB) and 256 KiB
    ///   from anything else (a pipe gives at most 64 KiB at a time).
    /// - Throws: ``RunnelError`` with `NOT_FOUND` or `PERMISSION_DENIED`, naming the path.
    public init(path: String, chunkSize: Int? = nil) throws(RunnelError) {
        self.path = path
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw RunnelError.posix(errno, "cannot open \(path)") }
            ownsDescriptor = true
        }
        self.chunkSize = chunkSize ?? Self.defaultChunkSize(fd)
    }

    /// Wraps a descriptor that is already open (``init(path:chunkSize:)`` says what `chunkSize` is).
    public init(descriptor: Int32, name: String, chunkSize: Int? = nil) {
        path = name
        fd = descriptor
        ownsDescriptor = false
        self.chunkSize = chunkSize ?? Self.defaultChunkSize(descriptor)
    }

    private static func defaultChunkSize(_ fd: Int32) -> Int {
        isRegularFile(fd) ? 1 << 20 : 256 << 10
    }

    private static func isRegularFile(_ fd: Int32) -> Bool {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Reads the next chunk and hands it to `body`; returns `false` at the end of the input.
    public func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let count = buffer.withUnsafeMutableBytes { readOnce(into: $0) }
        if count < 0 { throw RunnelError.posix(errno, "cannot read \(displayName)") }
        if count == 0 { return false }
        try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        return true
    }

    /// Reads the next chunk into an array of its own, with no copy beside the kernel's; `nil` at
    /// the end of the input. For readers that hand the chunk on to another task.
    public func readChunk() throws(RunnelError) -> [UInt8]? {
        var failure: Int32 = 0
        let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { raw, count in
            count = readOnce(into: UnsafeMutableRawBufferPointer(raw))
            if count < 0 { failure = errno }
            count = max(count, 0)
        }
        if failure != 0 { throw RunnelError.posix(failure, "cannot read \(displayName)") }
        return chunk.isEmpty ? nil : chunk
    }

    /// Whether a read would return bytes at once: a pipe or socket holds some already, a file has
    /// some left (`FIONREAD`). False when it cannot tell.
    public var hasBytesWaiting: Bool {
        var count: CInt = 0
        return ioctl(fd, UInt(FIONREAD), &count) == 0 && count > 0
    }

    /// One `read(2)` into `raw`, again after a signal, and after `EAGAIN` once there is
    /// something to read (a stdin another process made non-blocking): the bytes read, 0 at the
    /// end, -1 (errno set).
    private func readOnce(into raw: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            let n = Glibc.read(fd, raw.baseAddress, raw.count)
            if n < 0 && errno == EINTR { continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Readiness.wait(fd, for: Int16(POLLIN)) { continue }
            return n
        }
    }

    /// Whether the input is a regular file, which can be read at any offset (a pipe, a socket or
    /// a terminal cannot): only there can a reader skip a damaged zstd frame and read on.
    public var isRegularFile: Bool { Self.isRegularFile(fd) }

    /// What became of a followed file since it was opened: whether its name now leads to another
    /// file (or to none: moved away, as a log rotates, or saved anew, as an editor saves) or it
    /// was cut shorter than what was read (`copytruncate`). Nil while it is as it was.
    public var change: Change? {
        guard path != "-" else { return nil }
        var open = stat()
        var named = stat()
        guard fstat(fd, &open) == 0 else { return nil }
        guard stat(path, &named) == 0, named.st_dev == open.st_dev, named.st_ino == open.st_ino else { return .replaced }
        return lseek(fd, 0, SEEK_CUR) > open.st_size ? .truncated : nil
    }

    /// See ``change``.
    public enum Change: Sendable {
        case replaced
        case truncated
    }

    /// Makes the next ``read(_:)`` start at `offset` from the start of a regular file.
    /// - Returns: `false`, changing nothing, when the input is not a regular file.
    public func seek(to offset: Int) -> Bool {
        guard isRegularFile else { return false }
        return lseek(fd, off_t(offset), SEEK_SET) == off_t(offset)
    }

    /// The size of a regular file now (0 for any other input).
    public var size: Int {
        var info = stat()
        return fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
    }

    /// The offset in a regular file the next ``read(_:)`` starts at (0 for any other input).
    public var position: Int { max(0, Int(lseek(fd, 0, SEEK_CUR))) }

    /// Whether this regular file begins with the first `count` bytes of `other`, compared 64 KiB
    /// at a time: a list saved anew with lines added at its end still holds, at its start,
    /// everything that was read of the old one.
    public func begins(with other: FileInput, count: Int) -> Bool {
        var offset = 0
        while offset < count {
            let n = min(1 << 16, count - offset)
            guard let mine = bytes(at: offset, count: n), mine.count == n, mine == other.bytes(at: offset, count: n) else {
                return false
            }
            offset += n
        }
        return true
    }

    /// Reads up to `count` bytes at `offset` of a regular file without moving the position
    /// ``read(_:)`` reads from (`pread`).
    /// - Returns: the bytes (fewer at the end of the file, none past it), or `nil` when the input
    ///   is not a regular file or cannot be read.
    public func bytes(at offset: Int, count: Int) -> [UInt8]? {
        guard isRegularFile else { return nil }
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = bytes.withUnsafeMutableBytes { raw in
                pread(fd, raw.baseAddress! + done, count - done, off_t(offset + done))
            }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { break }
            done += n
        }
        bytes.removeLast(count - done)
        return bytes
    }
}

extension RunnelError {
    /// An error for a failed system call, with the code that fits `errno`.
    public static func posix(_ number: Int32, _ what: String) -> RunnelError {
        let reason = String(cString: strerror(number))
        let code: StatusCode =
            switch number {
            // No file there: nothing, a directory, or a path through a file or a loop of links.
            case ENOENT, EISDIR, ENOTDIR, ELOOP: .notFound
            case EACCES, EPERM, EROFS: .permissionDenied
            case ENOSPC, EDQUOT, EFBIG, EMFILE, ENFILE, ENOMEM: .resourceExhausted
            case ENAMETOOLONG: .invalidArgument
            case ECONNREFUSED, ECONNRESET, EPIPE, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT: .unavailable
            case EEXIST: .alreadyExists
            default: .internal
            }
        return RunnelError(code, "\(what): \(reason)", cause: SystemCallError(number: number))
    }

    /// Whether this is a write to a pipe whose reader went away (`runnel cat log | head`): the
    /// end of a command's work, like `cat`'s, not a failure to report.
    public var isBrokenPipe: Bool { (cause as? SystemCallError)?.number == EPIPE }
}

/// The `errno` a failed system call left, kept as a ``RunnelError``'s cause.
public struct SystemCallError: Error, Sendable, Hashable {
    public var number: Int32
}
