import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A small HTTP/1.1 server on loopback (port 0) for the fetch tests: each path answers one of the
/// cases (``Route``), and it counts the requests it saw per path.
final class TestHTTPServer: Sendable {
    /// What a path answers.
    enum Route: Sendable {
        /// A complete response.
        case respond(status: HTTPResponseStatus, headers: [(String, String)], body: [UInt8])
        /// Headers and the first bytes of a longer body, then silence (a stalled body).
        case stall(declaredLength: Int, sent: [UInt8])
        /// `count` bytes in chunks of 64 KB without a Content-Length (chunked).
        case stream(count: Int, contentType: String)
        /// `first` for the first request, `then` for every later one.
        indirect case sequence(first: Route, then: Route)
    }

    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    let port: Int
    private let counts = Mutex<[String: Int]>([:])
    private let lastHeaders = Mutex<[String: HTTPHeaders]>([:])
    let routes: [String: Route]

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, routes: [String: Route]) {
        self.group = group
        self.channel = channel
        self.port = channel.localAddress?.port ?? 0
        self.routes = routes
    }

    /// Starts a server answering `routes`; any other path is a 404.
    static func start(routes: [String: Route]) async throws -> TestHTTPServer {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let recorder = Recorder()
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.pipeline.configureHTTPServerPipeline().flatMapThrowing {
                    try channel.pipeline.syncOperations.addHandler(Handler(recorder: recorder))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let server = TestHTTPServer(group: group, channel: channel, routes: routes)
        recorder.server.withLock { $0 = server }
        return server
    }

    /// `http://127.0.0.1:PORT` + path.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// How many requests the server saw for `path`.
    func requests(_ path: String) -> Int { counts.withLock { $0[path] ?? 0 } }

    /// The headers of the last request for `path`.
    func headers(_ path: String) -> HTTPHeaders? { lastHeaders.withLock { $0[path] } }

    func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }

    fileprivate func route(for head: HTTPRequestHead) -> Route {
        let path = String(head.uri.split(separator: "?", maxSplits: 1).first ?? "")
        let seen = counts.withLock { counts in
            counts[path, default: 0] += 1
            return counts[path]! - 1
        }
        lastHeaders.withLock { $0[path] = head.headers }
        var route = routes[path] ?? .respond(status: .notFound, headers: [("Content-Type", "text/plain")], body: Array("not found".utf8))
        while case let .sequence(first, then) = route { route = seen == 0 ? first : then }
        return route
    }

    /// Lets handlers, made before the server object exists, find it.
    private final class Recorder: Sendable {
        let server = Mutex<TestHTTPServer?>(nil)
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        let recorder: Recorder
        var head: HTTPRequestHead?

        init(recorder: Recorder) {
            self.recorder = recorder
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case let .head(head): self.head = head
            case .body: break
            case .end:
                guard let head, let server = recorder.server.withLock({ $0 }) else { return }
                respond(server.route(for: head), context: context)
            }
        }

        private func respond(_ route: Route, context: ChannelHandlerContext) {
            switch route {
            case let .respond(status, headers, body):
                var fields = HTTPHeaders(headers)
                fields.replaceOrAdd(name: "Content-Length", value: String(body.count))
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: fields))), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case let .stall(declaredLength, sent):
                let fields = HTTPHeaders([("Content-Type", "text/html"), ("Content-Length", String(declaredLength))])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: fields))), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: sent)))), promise: nil)
            case let .stream(count, contentType):
                let fields = HTTPHeaders([("Content-Type", contentType)])
                context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: fields))), promise: nil)
                let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 << 10)
                var left = count
                while left > 0 {
                    let n = min(left, chunk.readableBytes)
                    context.write(wrapOutboundOut(.body(.byteBuffer(chunk.getSlice(at: 0, length: n)!))), promise: nil)
                    left -= n
                }
                context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            case .sequence:
                break  // resolved in route(for:)
            }
        }
    }
}
