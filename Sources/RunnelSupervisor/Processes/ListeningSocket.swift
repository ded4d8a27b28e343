import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// A Unix listening socket the supervisor binds and keeps, so a stage that restarts takes over
/// the same socket, and a connection made while it was down waits in the backlog.
public final class ListeningSocket: Sendable {
    public let path: String
    public let descriptor: Int32

    /// Binds `path` (mode 0600), replacing a stale socket file.
    public init(path: String, backlog: Int32 = 512) throws(RunnelError) {
        self.path = path
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot create a socket for \(path)") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw RunnelError(.invalidArgument, "socket path too long: \(path)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard bound == 0 else {
            let error = errno
            close(fd)
            throw RunnelError.posix(error, "cannot bind \(path)")
        }
        chmod(path, 0o600)
        guard listen(fd, backlog) == 0 else {
            let error = errno
            close(fd)
            throw RunnelError.posix(error, "cannot listen on \(path)")
        }
        descriptor = fd
    }

    deinit {
        close(descriptor)
        unlink(path)
    }
}
