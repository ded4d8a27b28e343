import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The read end of a child's stdout or stderr, read without threads: a NIO pipe channel on the
/// shared event loop group.
///
/// Read it once, with ``readChunks(_:)`` or ``readLines(maxLength:_:)``; both return at end of
/// file (the child closed it, usually by exiting) and close the descriptor.
///
/// ```swift
/// try await child.standardOutput!.readLines(maxLength: 1 << 20) { line in
///     if case let .line(bytes) = line { print(String(decoding: bytes, as: UTF8.self)) }
/// }
/// ```
public final class ProcessOutput: Sendable {
    /// One line of output, without its newline.
    public enum Line: Sendable, Hashable {
        case line([UInt8])
        /// A line longer than the limit: its first bytes are dropped with the rest of it, up to
        /// its newline; `length` is how much had arrived when it went past the limit.
        case tooLong(length: Int)
    }

    private let descriptor: Mutex<Int32?>

    /// Takes ownership of `descriptor`.
    public init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    deinit {
        if let fd = descriptor.withLock({ $0 }) { Glibc.close(fd) }
    }

    /// Takes the descriptor out (the caller then owns and closes it); `nil` once taken or read.
    public func takeDescriptor() -> Int32? {
        descriptor.withLock { fd in
            defer { fd = nil }
            return fd
        }
    }

    /// Calls `body` with each chunk as it arrives, until end of file.
    /// - Throws: what `body` throws, or a NIO error from reading; `ProcessError` if already read.
    public func readChunks(_ body: (ByteBuffer) async throws -> Void) async throws {
        guard let fd = takeDescriptor() else {
            throw ProcessError(.spawnFailed, program: "", message: "this output was already read", errno: EBADF)
        }
        try checkHandingOver(fd)
        let channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .takingOwnershipOfDescriptor(input: fd) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel)
                }
            }
        try await channel.executeThenClose { inbound in
            for try await chunk in inbound { try await body(chunk) }
        }
    }

    /// Calls `body` with each line (split at `\n`, the newline dropped) until end of file; a last
    /// line without a newline is given too. Each byte is looked at once, however lines arrive.
    /// - Parameter maxLength: the longest line taken; a longer one is reported as
    ///   ``Line/tooLong(length:)`` once and skipped to its newline.
    public func readLines(maxLength: Int, _ body: (Line) async throws -> Void) async throws {
        var pending: [UInt8] = []
        var skipping = false
        try await readChunks { chunk in
            var view = chunk.readableBytesView[...]
            while !view.isEmpty {
                guard let newline = view.firstIndex(of: 0x0A) else {
                    if !skipping { pending.append(contentsOf: view) }
                    if !skipping && pending.count > maxLength {
                        let length = pending.count
                        pending = []
                        skipping = true
                        try await body(.tooLong(length: length))
                    }
                    return
                }
                if skipping {
                    skipping = false
                } else {
                    pending.append(contentsOf: view[..<newline])
                    let line = pending
                    pending = []
                    try await body(line.count > maxLength ? .tooLong(length: line.count) : .line(line))
                }
                view = view[(newline + 1)...]
            }
        }
        if !pending.isEmpty && !skipping { try await body(.line(pending)) }
    }
}

/// The write end of a child's stdin. Writes wait while the pipe is full (back-pressure); the
/// end of ``withWriter(_:)`` closes it, and the child reads end of file.
///
/// ```swift
/// try await child.standardInput!.withWriter { writer in
///     try await writer.write(ByteBuffer(string: "one\ntwo\n"))
/// }   // closed: `cat` sees EOF and exits
/// ```
public final class ProcessInput: Sendable {
    private let descriptor: Mutex<Int32?>

    /// Takes ownership of `descriptor`.
    public init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    deinit {
        if let fd = descriptor.withLock({ $0 }) { Glibc.close(fd) }
    }

    /// Takes the descriptor out (the caller then owns and closes it); `nil` once taken or used.
    public func takeDescriptor() -> Int32? {
        descriptor.withLock { fd in
            defer { fd = nil }
            return fd
        }
    }

    /// Closes it without writing: the child reads end of file. Nothing happens once written.
    public func close() {
        if let fd = takeDescriptor() { Glibc.close(fd) }
    }

    /// Runs `body` with a writer for the child's stdin, then closes it (end of file), also when
    /// `body` throws. Cancelling the task fails a write that waits on a full pipe.
    /// - Throws: what `body` throws; a write fails once the child has closed its stdin (EPIPE).
    public func withWriter<R: Sendable>(_ body: (NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> R) async throws -> R {
        guard let fd = takeDescriptor() else {
            throw ProcessError(.spawnFailed, program: "", message: "this input was already used or closed", errno: EBADF)
        }
        try checkHandingOver(fd)
        let channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .takingOwnershipOfDescriptor(output: fd) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<Never, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { _, outbound in
            try await body(outbound)
        }
    }
}

/// Checks, before `fd` is given to `NIOPipeBootstrap`, what the bootstrap checks before it takes
/// the descriptor (that it is open, and not a file, directory or link), closing it and throwing
/// when that fails. The bootstrap closes the descriptor itself when it fails after taking it
/// (setting up or registering the channel), though its documentation leaves it to the caller;
/// with these checks done first, a failure of the bootstrap is one after it took the descriptor,
/// which is then never closed again here: a second close could close a descriptor another
/// thread had just been given the same number for.
private func checkHandingOver(_ fd: Int32) throws(ProcessError) {
    var info = stat()
    guard fstat(fd, &info) == 0 else {
        let code = errno
        Glibc.close(fd)
        throw ProcessError(.spawnFailed, program: "", message: "the child's pipe cannot be read", errno: code)
    }
    switch info.st_mode & S_IFMT {
    case S_IFREG, S_IFDIR, S_IFLNK, S_IFBLK:
        Glibc.close(fd)
        throw ProcessError(.spawnFailed, program: "", message: "the child's end is a file, not a pipe", errno: EINVAL)
    default:
        break
    }
}
