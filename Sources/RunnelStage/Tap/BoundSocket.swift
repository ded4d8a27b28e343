import NIOCore
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket made synchronously, to be served by NIO later
/// (`ServerBootstrap.bind(_:cleanupExistingSocketFile:)` or `withBoundSocket`).
///
/// Binding first lets a service fail at construction, with the address in the message, and tell
/// its bound TCP port (`tcp://127.0.0.1:0`) before it runs. The descriptor is closed when this
/// is released unless ``take()`` handed it on.
///
/// ```swift
/// let socket = try BoundSocket.tcp(host: "127.0.0.1", port: 0)
/// print(socket.port)  // 40123
/// let channel = try await ServerBootstrap(group: group).bind(socket.take()!, cleanupExistingSocketFile: false) { … }
/// ```
public final class BoundSocket: Sendable {
    private let descriptor: Atomic<Int32>
    /// The Unix socket's path, or `nil` for TCP.
    public let path: String?
    /// The TCP port bound (the one the system chose for port 0), or `nil` for a Unix socket.
    public let port: Int?

    private init(descriptor: Int32, path: String?, port: Int?) {
        self.descriptor = Atomic(descriptor)
        self.path = path
        self.port = port
    }

    /// Hands the descriptor on (once); `nil` if it was taken already.
    public func take() -> NIOBSDSocket.Handle? {
        let fd = descriptor.exchange(-1, ordering: .acquiringAndReleasing)
        return fd < 0 ? nil : NIOBSDSocket.Handle(fd)
    }

    deinit {
        let fd = descriptor.load(ordering: .acquiring)
        if fd >= 0 {
            close(fd)
            if let path { unlink(path) }
        }
    }

    /// Binds a Unix socket at `path`, owner-only (mode 0600), made under a temporary name and
    /// renamed into place so nobody connects to it half made. A socket file nobody listens on
    /// (left by a process that died) is replaced.
    /// - Throws: ``RunnelError`` with `ALREADY_EXISTS` when a process listens at `path`, or the
    ///   `errno` of the call that failed.
    public static func unix(path: String, backlog: Int32 = 16) throws(RunnelError) -> BoundSocket {
        let address = try UnixSocketAddress(path)
        if isListening(address) {
            throw RunnelError(.alreadyExists, "something already listens at \(path)")
        }
        let staging = try UnixSocketAddress("\(path).\(getpid()).tmp")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot create a socket for \(path)") }
        func failure(_ step: String) -> RunnelError {
            let error = errno
            close(fd)
            unlink(staging.path)
            return RunnelError.posix(error, "cannot \(step) the socket \(path)")
        }
        unlink(staging.path)
        guard staging.bind(fd) == 0 else { throw failure("bind") }
        guard chmod(staging.path, 0o600) == 0 else { throw failure("make private (chmod 600)") }
        guard listen(fd, backlog) == 0 else { throw failure("listen on") }
        guard rename(staging.path, path) == 0 else { throw failure("rename into place") }
        return BoundSocket(descriptor: fd, path: path, port: nil)
    }

    /// Binds a TCP socket on `host` (an IPv4 or IPv6 address, or a name) and `port` (0: any free one).
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` for a port out of range or a host that
    ///   does not resolve, `UNAVAILABLE` naming the address when it cannot be bound.
    public static func tcp(host: String, port: Int, backlog: Int32 = 64) throws(RunnelError) -> BoundSocket {
        guard (0...65535).contains(port) else {
            throw RunnelError(.invalidArgument, "port \(port) is out of range (0 to 65535)")
        }
        let address: SocketAddress
        do {
            address = try SocketAddress.makeAddressResolvingHost(host, port: port)
        } catch {
            throw RunnelError(.invalidArgument, "cannot resolve \(host): \(error)")
        }
        let family = address.protocol == .inet6 ? AF_INET6 : AF_INET
        let fd = socket(family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot create a socket for \(host):\(port)") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        let bound = address.withSockAddr { bind(fd, $0, socklen_t($1)) }
        guard bound == 0, listen(fd, backlog) == 0 else {
            let error = errno
            close(fd)
            throw RunnelError(.unavailable, "cannot listen on \(host):\(port): \(String(cString: strerror(error)))")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        var actual = port
        if named == 0 {
            actual = withUnsafePointer(to: &storage) { pointer in
                family == AF_INET6
                    ? pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
                    : pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        }
        return BoundSocket(descriptor: fd, path: nil, port: actual)
    }

    /// Whether a process accepts connections at the address (a connect succeeds; a stale
    /// socket file refuses it).
    /// Never waits: the socket does not block, and a full backlog (`EAGAIN`) counts as listening.
    public static func isListening(_ address: UnixSocketAddress) -> Bool {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return address.connect(fd) == 0 || errno == EAGAIN
    }
}
