import Foundation
import NIOCore
import NIOPosix
import RunnelProtocol
import RunnelStage
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's control socket as a service: one JSON request per line in, one reply per
/// line out (``ControlRequest``, ``ControlReply``), on a Unix socket private to the user.
///
/// The socket is bound when the service is made, so a second supervisor of the same pipeline is
/// refused before it starts anything, and a socket file left by one that died is replaced. Each
/// connection may ask any number of questions; a bad line is answered with an error and the
/// connection goes on, a line over ``Configuration/maxLineLength`` is answered with
/// `RESOURCE_EXHAUSTED` and the connection is closed. A connection silent for
/// ``Configuration/idleTimeout`` is closed; a request the handler does not answer within
/// ``Configuration/requestTimeout`` is answered `DEADLINE_EXCEEDED`. On graceful shutdown it stops
/// accepting, lets the requests being answered finish, closes the connections and removes the
/// socket file.
///
/// ```swift
/// let control = try ControlService(path: runDirectory + "/control.sock") { request in
///     await supervisor.answer(request)
/// }
/// let group = ServiceGroup(services: [control, …], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
public struct ControlService: Service {
    /// Limits of the control socket; every field has a default.
    public struct Configuration: Sendable {
        /// How long the handler has to answer one request.
        public var requestTimeout: Duration = .seconds(10)
        /// How long a connection may stay silent before it is closed.
        public var idleTimeout: Duration = .seconds(30)
        /// Connections served at once; one more is answered `RESOURCE_EXHAUSTED` and closed.
        public var maxConnections = 32
        /// The longest request line, in bytes.
        public var maxLineLength = 64 << 10

        public init() {}
    }

    /// The socket's path.
    public let path: String
    public let configuration: Configuration
    private let socket: BoundSocket
    private let handler: @Sendable (ControlRequest) async -> ControlReply

    /// Binds the control socket at `path`.
    /// - Parameter handler: answers each request; called concurrently from several connections.
    /// - Throws: ``RunnelError`` with `ALREADY_EXISTS` when a supervisor already listens at
    ///   `path`, or why the socket cannot be made.
    public init(
        path: String, configuration: Configuration = Configuration(),
        handler: @escaping @Sendable (ControlRequest) async -> ControlReply
    ) throws(RunnelError) {
        do {
            socket = try BoundSocket.unix(path: path)
        } catch where error.code == .alreadyExists {
            throw RunnelError(.alreadyExists, "a supervisor already answers at \(path); runnel stop ends it")
        }
        self.path = path
        self.configuration = configuration
        self.handler = handler
    }

    typealias Connection = NIOAsyncChannel<LineFrameDecoder.Frame, ByteBuffer>

    /// Serves until graceful shutdown (or cancellation), then removes the socket file.
    /// - Throws: ``RunnelError`` with `FAILED_PRECONDITION` when run a second time.
    public func run() async throws {
        guard let descriptor = socket.take() else {
            throw RunnelError(.failedPrecondition, "the control service at \(path) runs once")
        }
        defer { unlink(path) }
        let configuration = configuration
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(descriptor, cleanupExistingSocketFile: false) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(IdleStateHandler(readTimeout: TimeAmount(configuration.idleTimeout)))
                    try handlers.addHandler(CloseWhenIdle())
                    try handlers.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: configuration.maxLineLength)))
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let connections = ConnectionTable(limit: configuration.maxConnections)
        await connections.serve(server) { connection in await serve(connection, in: connections) }
    }

    private func serve(_ connection: Connection, in connections: ConnectionTable) async {
        try? await connection.executeThenClose { inbound, outbound in
            guard let id = connections.open(connection.channel) else {
                let reason = connections.isShuttingDown
                    ? RunnelError(.unavailable, "the supervisor is shutting down")
                    : RunnelError(.resourceExhausted, "too many control connections (\(configuration.maxConnections)); try again")
                try await outbound.write(ByteBuffer(bytes: ControlReply(reason).line))
                return
            }
            defer { connections.close(id) }
            for try await frame in inbound {
                switch frame {
                case .tooLong:
                    let error = RunnelError(
                        .resourceExhausted, "a request line is longer than \(configuration.maxLineLength) bytes; closing the connection")
                    try await outbound.write(ByteBuffer(bytes: ControlReply(error).line))
                    return
                case let .line(bytes):
                    if bytes.readableBytesView.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                    guard connections.begin(id) else { return }
                    let reply = await answer(bytes.readableBytesView)
                    try await outbound.write(ByteBuffer(bytes: reply.line))
                    guard connections.end(id) else { return }
                }
            }
        }
    }

    /// The reply to one request line, within the request timeout.
    func answer(_ line: some Collection<UInt8>) async -> ControlReply {
        let request: ControlRequest
        do throws(RunnelError) {
            request = try ControlRequest(line: line)
        } catch {
            return ControlReply(error)
        }
        let handler = handler
        let timeout = configuration.requestTimeout
        let reply = await Self.first(within: timeout) { await handler(request) }
        return reply ?? .error("the supervisor did not answer \(request.op) within \(TimeSpan(timeout))", code: .deadlineExceeded)
    }

    /// What `body` returns, or `nil` when it takes longer than `timeout` (it is left to finish).
    static func first<T: Sendable>(within timeout: Duration, _ body: @escaping @Sendable () async -> T) async -> T? {
        let once = ResumeOnce<T?>()
        return await withCheckedContinuation { continuation in
            once.set(continuation)
            let timer = Task {
                do { try await Task.sleep(for: timeout) } catch { return }
                once.resume(nil)
            }
            Task {
                let value = await body()
                once.resume(value)
                timer.cancel()
            }
        }
    }
}

/// A continuation resumed by whoever comes first.
final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ continuation: CheckedContinuation<T, Never>) {
        self.continuation.withLock { $0 = continuation }
    }

    func resume(_ value: T) {
        continuation.withLock { c -> CheckedContinuation<T, Never>? in
            defer { c = nil }
            return c
        }?.resume(returning: value)
    }
}
