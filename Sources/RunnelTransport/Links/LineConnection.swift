import NIOCore
import Synchronization
import NIOPosix
import NIOSSL
import RunnelProtocol

/// One socket link: a zstd stream of JSON lines in each direction.
///
/// ```swift
/// let connection = try await LineConnection.connect(to: .unix(path: "/run/runnel/parse.sock"))
/// try await connection.run { reader, writer in
///     try writer.send([.control(.credit(256))])
///     while let line = try await reader.next() { … }
/// }
/// ```
public struct LineConnection: Sendable {
    public typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let channel: Channel
    /// The peer's address, for log lines.
    public let peer: String
    /// Whether the connection runs over the network (TCP, TLS), where the shared key is proved;
    /// false for a Unix socket, which only its owner can reach (``Handshake``).
    public let isNetwork: Bool
    /// On a TLS link, completes when the TLS handshake does (fails with what went wrong).
    let secured: EventLoopFuture<Void>?

    public init(channel: Channel) {
        self.init(channel: channel, secured: nil)
    }

    init(channel: Channel, secured: EventLoopFuture<Void>?, peer: String? = nil) {
        self.channel = channel
        self.secured = secured
        self.peer = peer ?? channel.channel.remoteAddress.map { "\($0)" } ?? "unix peer"
        switch channel.channel.localAddress ?? channel.channel.remoteAddress {
        case .v4?, .v6?: isNetwork = true
        default: isNetwork = false
        }
    }

    /// Waits for the TLS handshake, if this is a TLS link.
    /// - Throws: ``RunnelError`` saying why TLS refused the peer (``TLSFailure``).
    func waitUntilSecured() async throws(RunnelError) {
        guard let secured else { return }
        do {
            try await secured.get()
        } catch {
            throw TLSFailure.error(error, peer: peer)
        }
    }

    /// Runs `body` with the connection's reader and writer, and closes the connection after.
    ///
    /// Writes go through one task in the order they were made, so several tasks may share the
    /// writer; credit bounds how much can wait there.
    ///
    /// - Parameter maxUnread: the most bytes kept for a peer that does not read them (the socket
    ///   takes no more); past it the connection is closed (``LineWriter/cutOff``), so replies a
    ///   peer never reads cannot pile up. A listener bounds it (``LineWriter/defaultMaxUnread``);
    ///   by default it is unbounded, for a sender, whose data the receiver's credit bounds (a
    ///   bound in bytes would cut off a slow receiver of large messages over and over).
    /// - Parameter flushTimeout: once `body` is done, how long what it wrote has to reach the
    ///   peer; a peer that stopped reading cannot hold the connection open past it (it is closed,
    ///   and what was not written is lost with it, as a close would lose it).
    public func run<R: Sendable>(
        limits: Limits = .default, zstdLevel: Int = 1, maxUnread: Int = .max, flushTimeout: Duration = .seconds(10),
        _ body: (inout LineReader, LineWriter) async throws -> R
    ) async throws -> R {
        try await channel.executeThenClose { inbound, outbound in
            try await waitUntilSecured()
            let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
            let raw = channel.channel
            let writer = LineWriter(continuation: continuation, zstdLevel: zstdLevel, maxUnread: maxUnread) {
                raw.close(promise: nil)
            }
            let writing = Task {
                for await buffer in stream {
                    do { try await outbound.write(buffer) } catch { break }
                    writer.written(buffer.readableBytes)
                }
                outbound.finish()
            }
            writer.attach(writing)
            var reader = LineReader(inbound: inbound, limits: limits, peer: secured == nil ? nil : peer, isNetwork: isNetwork)
            // What is left to write once the body is done, within the flush timeout.
            func flush() async {
                writer.finish()
                let deadline = Task {
                    try await Task.sleep(for: flushTimeout)
                    raw.close(promise: nil)
                }
                await writing.value
                deadline.cancel()
            }
            do {
                let result = try await body(&reader, writer)
                await flush()
                return result
            } catch {
                await flush()
                throw error
            }
        }
    }

    /// Closes the connection; the reader then ends and writes fail.
    public func close() {
        channel.channel.close(promise: nil)
    }

    /// Connects to a socket endpoint; on `tls://`, also completes the TLS handshake.
    /// - Parameter tls: the trust roots and client certificate for `tls://` (default: the
    ///   system's roots, no client certificate).
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` (nobody listening, refused, unreachable), or
    ///   `UNAUTHENTICATED` when TLS refused the listener's certificate (the message says why).
    public static func connect(to endpoint: Endpoint, tls: TLSSettings = TLSSettings()) async throws(RunnelError) -> LineConnection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelOption(.socketOption(.so_keepalive), value: 1)
        @Sendable func wrap(_ channel: any NIOCore.Channel) -> EventLoopFuture<Channel> {
            channel.eventLoop.makeCompletedFuture {
                try Channel(wrappingChannelSynchronously: channel, configuration: Self.configuration)
            }
        }
        do {
            let channel: Channel
            switch endpoint {
            case let .unix(path):
                channel = try await bootstrap.connect(unixDomainSocketPath: path) { wrap($0) }
            case let .tcp(host, port):
                channel = try await bootstrap.connect(host: host, port: port) { wrap($0) }
            case let .tls(host, port):
                let context = try tls.makeClientContext()
                // An IP address is checked against the certificate's IP SANs (and is not sent as SNI).
                let serverName = host.isIPAddress ? nil : host
                let (tlsChannel, secured) = try await bootstrap.connect(host: host, port: port) { raw in
                    raw.eventLoop.makeCompletedFuture {
                        let handler = try NIOSSLClientHandler(context: context, serverHostname: serverName)
                        let secured = try raw.pipeline.syncOperations.addTLS(handler, eventLoop: raw.eventLoop)
                        return (try Channel(wrappingChannelSynchronously: raw, configuration: Self.configuration), secured)
                    }
                }
                let connection = LineConnection(channel: tlsChannel, secured: secured, peer: endpoint.description)
                do throws(RunnelError) {
                    try await connection.waitUntilSecured()
                } catch {
                    // Closed through the async channel, so its writer is finished as NIO requires.
                    try? await tlsChannel.executeThenClose { _, _ in }
                    throw error
                }
                return connection
            default:
                throw RunnelError(.invalidArgument, "\(endpoint) is not a socket endpoint")
            }
            return LineConnection(channel: channel)
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.unavailable, "cannot connect to \(endpoint): \(Self.describe(error))")
        }
    }

    /// Backpressure both ways: reads stop while the consumer is behind; writes suspend while the
    /// socket's send buffer is over the high-water mark.
    static let configuration = Channel.Configuration(
        backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16),
        isOutboundHalfClosureEnabled: false)

    /// A network error as a person reads it: "Address already in use", not
    /// "bind(descriptor:ptr:bytes:): … (errno: 98)"; "Connection refused", not
    /// "Connection errors: SingleConnectionFailure(target: [IPv4]127.0.0.1/…".
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let io as IOError:
            return String(cString: strerror(io.errnoCode))
        case let failure as NIOConnectionError:
            // Every address tried failed: each distinct reason once, then the names not resolved.
            var reasons: [String] = []
            for attempt in failure.connectionErrors where !reasons.contains(describe(attempt.error)) {
                reasons.append(describe(attempt.error))
            }
            if let dns = failure.dnsAError ?? failure.dnsAAAAError { reasons.append(describe(dns)) }
            return reasons.isEmpty ? "no address of \(failure.host) answered on port \(failure.port)" : reasons.joined(separator: "; ")
        case let unknown as SocketAddressError.UnknownHost:
            return "cannot resolve \(unknown.host): \(unknown.errorDescription)"
        case ChannelError.connectTimeout:
            return "no answer within the connect timeout"
        case _ where TLSFailure.isTLS(error):
            return TLSFailure.reason(error)
        default:
            return "\(error)"
        }
    }
}

extension String {
    /// Whether this is an IPv4 or IPv6 address rather than a name.
    var isIPAddress: Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return withCString { inet_pton(AF_INET, $0, &v4) == 1 || inet_pton(AF_INET6, $0, &v6) == 1 }
    }
}

/// What a link delivers: a line, or a line it refused (`PROTOCOL.md` §7.9: skipped, and
/// dead-lettered by the receiver, the link stays open).
public enum LinkInput: Sendable {
    case line(WireLine)
    case refused(RunnelError, raw: String)
}

/// Reads decoded lines from a link. Not shared between tasks.
public struct LineReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let decoder: StreamDecoder
    private var lines: [LinkInput] = []
    private var next = 0
    private var failure: RunnelError?
    private var ended = false
    /// On a TLS link, the peer, so a TLS refusal that comes after the handshake (TLS 1.3 sends
    /// a missing client certificate's alert then) is reported as one.
    private let tlsPeer: String?
    /// Whether the link runs over the network (``LineConnection/isNetwork``).
    public let isNetwork: Bool


    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, limits: Limits, peer: String? = nil, isNetwork: Bool) {
        iterator = inbound.makeAsyncIterator()
        decoder = StreamDecoder(limits: limits)
        tlsPeer = peer
        self.isNetwork = isNetwork
    }

    /// Every line already decoded (at least one, waiting for it if needed), or `nil` when the
    /// peer closed the link cleanly. Handling a batch at a time saves a hop per message.
    public mutating func nextBatch() async throws(RunnelError) -> [LinkInput]? {
        guard try await next() != nil else { return nil }
        // What is left of the lines decoded last, the one just returned included. Usually that
        // is all of them, and the batch shares their buffer instead of copying it (issue 14).
        let batch = Array(lines[(next - 1)...])
        next = lines.count
        return batch
    }

    /// The next line, or `nil` when the peer closed the link cleanly.
    /// - Throws: ``RunnelError`` for a stream that breaks the protocol (bad zstd, a window over
    ///   the limit: after every valid line before it was returned), or a failed connection.
    public mutating func next() async throws(RunnelError) -> LinkInput? {
        while true {
            if next < lines.count {
                defer { next += 1 }
                return lines[next]
            }
            if let failure { throw failure }
            if ended { return nil }
            // Decoded into the last batch's buffer once nothing else holds it, not into a new
            // array grown by doubling (issue 14).
            var decoded = lines
            lines = []
            decoded.removeAll(keepingCapacity: true)
            next = 0
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch is CancellationError {
                // This side stopped (a link still shaking hands when its stage is told to stop):
                // no failure of the peer's, and what the peer is told in the bye.
                throw RunnelError(.cancelled, "stopping")
            } catch {
                if let tlsPeer, TLSFailure.isTLS(error) { throw TLSFailure.error(error, peer: tlsPeer) }
                throw RunnelError(.unavailable, "connection failed: \(LineConnection.describe(error))")
            }
            var problem: RunnelError?
            let decoder = self.decoder
            // One read decodes into a bounded amount (DecodeBudget): past it, the link is closed.
            var budget = DecodeBudget(limits: decoder.limits)
            func keep(_ event: LineEvent) throws {
                try budget.charge(event)
                decoded.append(Self.input(event))
            }
            do {
                if let buffer {
                    try buffer.withUnsafeReadableBytes { raw in try decoder.feed(raw, keep) }
                } else {
                    ended = true
                    try decoder.finish(keep)
                }
            } catch {
                problem = problem ?? (error as? RunnelError ?? RunnelError(.dataLoss, "\(error)"))
            }
            lines = decoded
            failure = problem
        }
    }

    private static func input(_ event: LineEvent) -> LinkInput {
        switch event {
        case let .invalid(error):
            return .refused(error, raw: "")
        case let .line(bytes, number):
            do throws(RunnelError) {
                return .line(try WireLine(line: bytes))
            } catch {
                return .refused(error.at(.line(number)), raw: String(decoding: bytes.prefix(4096), as: UTF8.self))
            }
        }
    }
}

/// Writes lines to a link as one zstd stream, flushed per call. Safe to share between tasks:
/// each call's bytes are queued, in call order, for the connection's one writing task.
public final class LineWriter: Sendable {
    private struct State {
        var encoder: StreamEncoder
        var closed = false
        /// Bytes queued for the socket and not yet taken by it.
        var unread = 0
        var cutOff: RunnelError?
    }

    /// The default bound on what waits for a peer that does not read (16 MiB).
    public static let defaultMaxUnread = 16 << 20

    private let state: Mutex<State>
    private let continuation: AsyncStream<ByteBuffer>.Continuation
    /// The task that writes what is sent to the socket (set by ``LineConnection/run``).
    private let writing = Mutex<Task<Void, Never>?>(nil)
    private let maxUnread: Int
    private let close: @Sendable () -> Void

    init(
        continuation: AsyncStream<ByteBuffer>.Continuation, zstdLevel: Int, maxUnread: Int = LineWriter.defaultMaxUnread,
        close: @escaping @Sendable () -> Void = {}
    ) {
        self.continuation = continuation
        self.maxUnread = maxUnread
        self.close = close
        state = Mutex(State(encoder: StreamEncoder(format: .zstd(level: zstdLevel))))
    }

    /// Why the connection was cut off: the peer left more than the bound unread
    /// (`RESOURCE_EXHAUSTED`); `nil` while it reads.
    public var cutOff: RunnelError? { state.withLock { $0.cutOff } }

    /// The socket took `count` bytes.
    func written(_ count: Int) {
        state.withLock { $0.unread -= count }
    }

    /// Sends lines; they follow everything sent before.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` once the link is closed.
    public func send(_ lines: [WireLine]) throws(RunnelError) {
        try write { encoder in for line in lines { encoder.append(line) } }
    }

    /// Sends data messages with their sequence numbers set.
    public func send(_ messages: [(seq: UInt64, envelope: Envelope)]) throws(RunnelError) {
        try write { encoder in
            for (seq, envelope) in messages { encoder.append(envelope, seq: seq) }
        }
    }

    public func send(_ control: ControlMessage) throws(RunnelError) {
        try write { $0.append(control) }
    }

    /// Sends lines as they are, valid or not: for conformance tests of refusals.
    public func sendRaw(_ lines: [String]) throws(RunnelError) {
        try write { encoder in
            for line in lines {
                var bytes = Array(line.utf8)
                bytes.withUnsafeBufferPointer { encoder.append(line: $0) }
                bytes.removeAll()
            }
        }
    }

    /// Ends this side of the link and waits until everything sent before is on the socket:
    /// a `bye` sent first reaches the peer even if the connection is closed right after.
    /// - Parameter last: a control line to send before the end, in the same write (see
    ///   ``finish(saying:)``).
    public func finishAndFlush(saying last: ControlMessage? = nil) async {
        finish(saying: last)
        await writing.withLock { $0 }?.value
    }

    func attach(_ task: Task<Void, Never>) {
        writing.withLock { $0 = task }
    }

    /// Ends the zstd frame, so the peer sees a whole stream, and stops writing.
    /// - Parameter last: a control line (a `bye`) sent with the frame's end in one write. A peer
    ///   that closes as soon as it reads a `bye` then has the end of the stream already: were it
    ///   still on its way, the close would leave it unread, and a socket closed with bytes
    ///   unread is reset, which the sender here takes for a broken connection.
    public func finish(saying last: ControlMessage? = nil) {
        state.withLock { s in
            guard !s.closed else { return }
            s.closed = true
            if let last { s.encoder.append(last) }
            if let bytes = try? s.encoder.finish(), !bytes.isEmpty {
                s.unread += bytes.count
                continuation.yield(ByteBuffer(bytes: bytes))
            }
            continuation.finish()
        }
    }

    private func write(_ append: (StreamEncoder) -> Void) throws(RunnelError) {
        let (failure, cut) = state.withLock { s -> (RunnelError?, Bool) in
            guard !s.closed else { return (s.cutOff ?? RunnelError(.unavailable, "the link is closed"), false) }
            append(s.encoder)
            do {
                let bytes = try s.encoder.flush()
                s.unread &+= bytes.count
                if s.unread > maxUnread {
                    // The peer does not read what it is sent: cut it off rather than keep it all.
                    let error = RunnelError(
                        .resourceExhausted,
                        "the peer left \(s.unread) bytes unread (the bound is \(maxUnread), --max-unread); closing the connection")
                    s.cutOff = error
                    s.closed = true
                    continuation.finish()
                    return (error, true)
                }
                if case .terminated = continuation.yield(ByteBuffer(bytes: bytes)) {
                    s.closed = true
                    return (RunnelError(.unavailable, "the link is closed"), false)
                }
                return (nil, false)
            } catch {
                return (error as? RunnelError ?? RunnelError(.internal, "\(error)"), false)
            }
        }
        if cut { close() }
        if let failure { throw failure }
    }
}
