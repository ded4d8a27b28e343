import NIOCore
import NIOPosix
import NIOSSL
import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

/// A listening socket that yields one ``LineConnection`` per peer.
///
/// Unix sockets are created with mode 0600 in a directory created with mode 0700 when missing,
/// so only their owner can connect. A stale socket file from a dead process is replaced.
public struct LinkListener: Sendable {
    public typealias ServerChannel = NIOAsyncChannel<Accepted, Never>

    /// An accepted connection, and on TLS its handshake.
    public struct Accepted: Sendable {
        let channel: LineConnection.Channel
        let secured: EventLoopFuture<Void>?
    }

    let channel: ServerChannel
    public let endpoint: Endpoint

    /// Binds `endpoint` (`unix:`, `tcp://`, `tls://` or an inherited `fd:N`).
    /// - Parameter tls: for `tls://`: this side's certificate and key, and the roots client
    ///   certificates must chain to when they are required.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` or `PERMISSION_DENIED` naming the endpoint;
    ///   for `tls://`, what is missing from `tls`.
    public static func bind(_ endpoint: Endpoint, backlog: Int32 = 256, tls: TLSSettings = TLSSettings()) async throws(RunnelError) -> LinkListener {
        let context: NIOSSLContext?
        if case .tls = endpoint { context = try tls.makeServerContext() } else { context = nil }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: backlog)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.so_keepalive), value: 1)
            // A peer that half-closes after its drain still reads the acks and the bye (§7.7).
            .childChannelOption(.allowRemoteHalfClosure, value: true)
        @Sendable func wrap(_ channel: any Channel) -> EventLoopFuture<Accepted> {
            channel.eventLoop.makeCompletedFuture {
                var secured: EventLoopFuture<Void>?
                if let context {
                    secured = try channel.pipeline.syncOperations.addTLS(NIOSSLServerHandler(context: context), eventLoop: channel.eventLoop)
                }
                let wrapped = try LineConnection.Channel(wrappingChannelSynchronously: channel, configuration: LineConnection.configuration)
                return Accepted(channel: wrapped, secured: secured)
            }
        }
        do {
            let server: ServerChannel
            switch endpoint {
            case let .unix(path):
                // Bound and made private under a temporary name, then renamed into place: a peer
                // that waits for the path to appear connects to a listening, owner-only socket.
                try prepareSocketPath(path)
                let staging = "\(path).\(getpid()).tmp"
                server = try await bootstrap.bind(unixDomainSocketPath: staging, cleanupExistingSocketFile: true) { wrap($0) }
                chmod(staging, 0o600)
                guard rename(staging, path) == 0 else {
                    let error = RunnelError.posix(errno, "cannot move the socket \(staging) to \(path)")
                    try? await server.channel.close()
                    unlink(staging)
                    throw error
                }
            case let .tcp(host, port), let .tls(host, port):
                server = try await bootstrap.bind(host: host, port: port) { wrap($0) }
            case let .descriptor(fd):
                server = try await bootstrap.bind(NIOBSDSocket.Handle(fd), cleanupExistingSocketFile: false) { wrap($0) }
            default:
                throw RunnelError(.invalidArgument, "\(endpoint) is not a socket endpoint to listen on")
            }
            return LinkListener(channel: server, endpoint: endpoint)
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.unavailable, "cannot listen on \(endpoint): \(LineConnection.describe(error))")
        }
    }

    /// The TCP port actually bound (for `tcp://host:0`).
    public var port: Int? { channel.channel.localAddress?.port }

    /// Accepts connections until the listener is closed, running `handle` for each in its own task.
    public func serve(_ handle: @escaping @Sendable (LineConnection) async -> Void) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await channel.executeThenClose { inbound in
                for try await accepted in inbound {
                    group.addTask { await handle(LineConnection(channel: accepted.channel, secured: accepted.secured)) }
                }
            }
        }
    }

    /// Stops accepting; connections already open go on.
    public func close() {
        channel.channel.close(promise: nil)
    }

    private static func prepareSocketPath(_ path: String) throws(RunnelError) {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return }
        let directory = String(path[..<slash])
        var info = stat()
        if stat(directory, &info) != 0 {
            // Create the missing directories, private to the owner.
            var built = directory.hasPrefix("/") ? "" : "."
            for part in directory.split(separator: "/") {
                built += "/" + part
                if mkdir(built, 0o700) != 0 && errno != EEXIST {
                    throw RunnelError.posix(errno, "cannot create the socket directory \(built)")
                }
            }
        }
        if path.utf8.count >= 108 {
            throw RunnelError(.invalidArgument, "unix socket path too long (\(path.utf8.count) bytes, the limit is 107): \(path)")
        }
    }
}
