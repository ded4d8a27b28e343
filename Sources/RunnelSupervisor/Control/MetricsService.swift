import NIOCore
import NIOHTTP1
import NIOPosix
import RunnelProtocol
import RunnelStage
import ServiceLifecycle

/// Serves a pipeline's status as Prometheus metrics over HTTP/1.1: `GET /metrics`
/// (``PipelineStatus/prometheusText(version:)``); any other path is 404, any other method 405.
///
/// The TCP socket is bound when the service is made, so a port in use fails at once and the port
/// the system chose for port 0 can be read (``port``) and logged before the service runs.
///
/// ```swift
/// let metrics = try MetricsService(host: "127.0.0.1", port: 0, version: Runnel.version) { await supervisor.status() }
/// logger.info("metrics on \(metrics.address)")   // tcp://127.0.0.1:40123
/// ```
public struct MetricsService: Service {
    /// The address bound.
    public let host: String
    /// The port bound (the one the system chose when asked for port 0).
    public let port: Int
    /// The `runnel` version shown in `runnel_build_info`.
    public let version: String
    /// Connections served at once; more are closed at once.
    public var maxConnections = 16
    /// How long a connection may stay silent before it is closed.
    public var idleTimeout: Duration = .seconds(30)
    private let socket: BoundSocket
    private let status: @Sendable () async -> PipelineStatus

    /// Binds `host:port` (port 0: any free port).
    /// - Parameter status: the status to render on each request.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` for a port out of range or a host that
    ///   does not resolve, `UNAVAILABLE` when the address cannot be bound (in use).
    public init(
        host: String, port: Int, version: String = "unknown", status: @escaping @Sendable () async -> PipelineStatus
    ) throws(RunnelError) {
        socket = try BoundSocket.tcp(host: host, port: port)
        self.host = host
        self.port = socket.port ?? port
        self.version = version
        self.status = status
    }

    /// `tcp://127.0.0.1:9464`, `tcp://[::1]:9464`.
    public var address: String { host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)" }

    typealias Connection = NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>

    /// Serves until graceful shutdown or cancellation.
    /// - Throws: ``RunnelError`` with `FAILED_PRECONDITION` when run a second time.
    public func run() async throws {
        guard let descriptor = socket.take() else {
            throw RunnelError(.failedPrecondition, "the metrics service on \(address) runs once")
        }
        let idleTimeout = idleTimeout
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(descriptor, cleanupExistingSocketFile: false) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(IdleStateHandler(readTimeout: TimeAmount(idleTimeout)))
                    try handlers.addHandler(CloseWhenIdle())
                    try handlers.configureHTTPServerPipeline(withErrorHandling: true)
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        let connections = ConnectionTable(limit: maxConnections)
        await connections.serve(server) { connection in await serve(connection, in: connections) }
    }

    private func serve(_ connection: Connection, in connections: ConnectionTable) async {
        try? await connection.executeThenClose { inbound, outbound in
            guard let id = connections.open(connection.channel) else { return }  // too many, or shutting down
            defer { connections.close(id) }
            var request: HTTPRequestHead?
            for try await part in inbound {
                switch part {
                case let .head(head):
                    guard connections.begin(id) else { return }
                    request = head
                case .body: continue
                case .end:
                    guard let head = request else { return }
                    let (status, headers, body) = await respond(to: head)
                    try await outbound.write(.head(HTTPResponseHead(version: head.version, status: status, headers: headers)))
                    if head.method != .HEAD, !body.isEmpty { try await outbound.write(.body(.byteBuffer(ByteBuffer(string: body)))) }
                    try await outbound.write(.end(nil))
                    guard connections.end(id), head.isKeepAlive else { return }
                    request = nil
                }
            }
        }
    }

    /// The status, headers and body for a request.
    func respond(to head: HTTPRequestHead) async -> (HTTPResponseStatus, HTTPHeaders, String) {
        let path = head.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        var headers = HTTPHeaders()
        let status: HTTPResponseStatus
        let body: String
        if path != "/metrics" {
            (status, body) = (.notFound, "not found: metrics are at /metrics\n")
        } else if head.method != .GET && head.method != .HEAD {
            (status, body) = (.methodNotAllowed, "only GET and HEAD\n")
            headers.add(name: "Allow", value: "GET, HEAD")
        } else if let current = await ControlService.first(within: .seconds(10), self.status) {
            (status, body) = (.ok, current.prometheusText(version: version))
        } else {
            (status, body) = (.serviceUnavailable, "the supervisor did not give its status within 10 s\n")
        }
        headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4; charset=utf-8" : "text/plain; charset=utf-8")
        headers.add(name: "Content-Length", value: "\(body.utf8.count)")
        if !head.isKeepAlive { headers.add(name: "Connection", value: "close") }
        return (status, headers, body)
    }
}
