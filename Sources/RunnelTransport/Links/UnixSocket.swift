import Foundation
import RunnelProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A Unix listening socket on a path, private to the user (mode 0600).
///
/// The supervisor binds one per stage and keeps it, so a stage that restarts takes over the same
/// socket and a connection made while it was down waits in the backlog.
public final class ListeningSocket: Sendable {
    public let path: String
    public let descriptor: Int32
    private let closed = Atomic<Bool>(false)

    /// Binds `path`, replacing a stale socket file. The socket is bound, made private and listening
    /// under a temporary name, then renamed into place: a peer never finds it half made (bound but
    /// refusing connections, or open to other users).
    public init(path: String, backlog: Int32 = 512) throws(RunnelError) {
        self.path = path
        _ = try UnixSocketAddress(path)  // too long a path is refused before anything is made
        let staging = try UnixSocketAddress("\(path).\(getpid()).tmp")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot create a socket for \(path)") }
        func failure(_ step: String) -> RunnelError {
            let error = errno
            Glibc.close(fd)
            unlink(staging.path)
            return RunnelError.posix(error, "cannot \(step) the socket \(path)")
        }
        unlink(staging.path)
        guard staging.bind(fd) == 0 else { throw failure("bind") }
        guard chmod(staging.path, 0o600) == 0 else { throw failure("make private (chmod 600)") }
        guard listen(fd, backlog) == 0 else { throw failure("listen on") }
        guard rename(staging.path, path) == 0 else { throw failure("rename into place") }
        descriptor = fd
    }

    /// Stops accepting and removes the socket file.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        shutdown(descriptor, Int32(SHUT_RDWR))
        Glibc.close(descriptor)
        unlink(path)
    }

    deinit { close() }
}

/// A `sockaddr_un` for a path, checked for length.
public struct UnixSocketAddress: Sendable {
    public let path: String
    private let address: sockaddr_un

    public init(_ path: String) throws(RunnelError) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw RunnelError(.invalidArgument, "the socket path is too long (\(bytes.count) bytes; 107 at most): \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        self.address = address
    }

    /// `bind(2)` of `fd` to this address.
    public func bind(_ fd: Int32) -> Int32 {
        withSockaddr { Glibc.bind(fd, $0, $1) }
    }

    /// `connect(2)` of `fd` to this address.
    public func connect(_ fd: Int32) -> Int32 {
        withSockaddr { Glibc.connect(fd, $0, $1) }
    }

    /// Whether a process listens here: a socket file whose listener is gone (its process was
    /// killed) refuses the connection. The connection made to find out is closed at once.
    public var isListening: Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { Glibc.close(fd) }
        // A full backlog (EAGAIN) still means a listener.
        return connect(fd) == 0 || errno == EAGAIN || errno == EINPROGRESS
    }

    private func withSockaddr(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        withUnsafePointer(to: address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}
