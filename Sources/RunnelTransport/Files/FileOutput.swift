#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RunnelProtocol

/// Writes to a file or standard output with blocking `write(2)`, buffering small writes.
public final class FileOutput {
    public let path: String
    private let fd: Int32
    private let ownsDescriptor: Bool
    private var buffer: [UInt8] = []
    private let bufferLimit: Int

    /// Opens `path` for writing (created or truncated; `append` to add to it); `-` is stdout.
    public init(path: String, append: Bool = false, bufferLimit: Int = 64 << 10) throws(RunnelError) {
        self.path = path
        self.bufferLimit = bufferLimit
        if path == "-" {
            fd = STDOUT_FILENO
            ownsDescriptor = false
        } else {
            fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), 0o644)
            guard fd >= 0 else { throw RunnelError.posix(errno, "cannot open \(path) for writing") }
            ownsDescriptor = true
        }
        buffer.reserveCapacity(bufferLimit)
    }

    /// Wraps a descriptor that is already open.
    public init(descriptor: Int32, name: String, bufferLimit: Int = 64 << 10) {
        path = name
        fd = descriptor
        ownsDescriptor = false
        self.bufferLimit = bufferLimit
    }

    deinit {
        try? flush()
        if ownsDescriptor { close(fd) }
    }

    /// Buffers `bytes`, writing when the buffer is full.
    public func write(_ bytes: [UInt8]) throws(RunnelError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flush() }
    }

    public func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flush() }
    }

    /// Writes everything buffered.
    /// - Throws: ``RunnelError`` (`UNAVAILABLE` for a closed pipe, `RESOURCE_EXHAUSTED` for a
    ///   full disk).
    public func flush() throws(RunnelError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        var written = 0
        let total = buffer.count
        let failure: Int32? = buffer.withUnsafeBytes { raw in
            while written < total {
                let n = Glibc.write(fd, raw.baseAddress! + written, total - written)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                written += n
            }
            return nil
        }
        if let failure { throw RunnelError.posix(failure, "cannot write \(path == "-" ? "stdout" : path)") }
    }

    /// Flushes and asks the kernel to put the data on disk (`fsync`).
    public func sync() throws(RunnelError) {
        try flush()
        if fsync(fd) != 0 && errno != EINVAL { throw RunnelError.posix(errno, "cannot sync \(path)") }
    }
}
