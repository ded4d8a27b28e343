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

    /// Buffers `bytes`, writing when the buffer is full. Bytes that fill the buffer by
    /// themselves (a page) are written from where they are, after what is buffered, not copied
    /// into the buffer first: the buffer then never grows past about twice ``bufferLimit``.
    public func write(_ bytes: [UInt8]) throws(RunnelError) {
        try bytes.withUnsafeBufferPointer { (buffer) throws(RunnelError) in try write(buffer) }
    }

    public func write(_ bytes: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        if bytes.count >= bufferLimit {
            try flush()
            try writeAll(UnsafeRawBufferPointer(bytes))
            return
        }
        buffer.append(contentsOf: bytes)
        if buffer.count >= bufferLimit { try flush() }
    }

    /// Writes everything buffered.
    /// - Throws: ``RunnelError`` (`UNAVAILABLE` for a closed pipe, `RESOURCE_EXHAUSTED` for a
    ///   full disk).
    public func flush() throws(RunnelError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        let failure: RunnelError? = buffer.withUnsafeBytes { raw in
            do throws(RunnelError) {
                try writeAll(raw)
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
    }

    /// Writes all of `bytes` with `write(2)`, again after a partial write or `EINTR`, and after
    /// `EAGAIN` once the descriptor takes more: a stdout shared with a process that made it
    /// non-blocking (the flag belongs to the open pipe, not to one process) must not end the run.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(RunnelError) {
        var written = 0
        let total = bytes.count
        while written < total {
            let n = Glibc.write(fd, bytes.baseAddress! + written, total - written)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK, Readiness.wait(fd, for: Int16(POLLOUT)) { continue }
                throw RunnelError.posix(errno, "cannot write \(path == "-" ? "stdout" : path)")
            }
            written += n
        }
    }

    /// Flushes and asks the kernel to put the data on disk (`fsync`).
    public func sync() throws(RunnelError) {
        try flush()
        if fsync(fd) != 0 && errno != EINVAL { throw RunnelError.posix(errno, "cannot sync \(path)") }
    }
}
