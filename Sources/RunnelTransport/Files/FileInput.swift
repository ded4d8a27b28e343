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
/// while let chunk = try input.read() { … }
/// ```
public final class FileInput {
    public let path: String
    /// The name to use in messages: the path, or "stdin".
    public var displayName: String { path == "-" ? "stdin" : path }
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8]

    /// Opens `path` for reading; `-` is standard input.
    /// - Throws: ``RunnelError`` with `NOT_FOUND` or `PERMISSION_DENIED`, naming the path.
    public init(path: String, chunkSize: Int = 256 << 10) throws(RunnelError) {
        self.path = path
        buffer = [UInt8](repeating: 0, count: chunkSize)
        if path == "-" {
            fd = STDIN_FILENO
            ownsDescriptor = false
        } else {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw RunnelError.posix(errno, "cannot open \(path)") }
            ownsDescriptor = true
        }
    }

    /// Wraps a descriptor that is already open.
    public init(descriptor: Int32, name: String, chunkSize: Int = 256 << 10) {
        path = name
        fd = descriptor
        ownsDescriptor = false
        buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    deinit {
        if ownsDescriptor { close(fd) }
    }

    /// Reads the next chunk and hands it to `body`; returns `false` at the end of the input.
    public func read(_ body: (UnsafeRawBufferPointer) throws -> Void) throws -> Bool {
        let count = buffer.withUnsafeMutableBytes { raw -> Int in
            while true {
                let n = Glibc.read(fd, raw.baseAddress, raw.count)
                if n < 0 && errno == EINTR { continue }
                return n
            }
        }
        if count < 0 { throw RunnelError.posix(errno, "cannot read \(displayName)") }
        if count == 0 { return false }
        try buffer.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        return true
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
