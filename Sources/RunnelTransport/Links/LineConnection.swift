import NIOCore
import NIOPosix
import RunnelProtocol

/// One socket link: a zstd stream of JSON lines in each direction.
///
/// ```swift
/// let connection = try await LineConnection.connect(to: .unix(path: "/run/runnel/parse.sock"))
/// try await connection.run { reader, writer in
///     try await writer.send([.control(.credit(256))])
///     while let line = try await reader.next() { … }
/// }
/// ```
public struct LineConnection: Sendable {
    public typealias Channel = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    let channel: Channel
    /// The peer's address, for log lines.
    public let peer: String

    public init(channel: Channel) {
        self.channel = channel
        peer = channel.channel.remoteAddress.map { "\($0)" } ?? "unix peer"
    }

    /// Runs `body` with the connection's reader and writer, and closes the connection after.
    public func run<R: Sendable>(
        limits: Limits = .default, zstdLevel: Int = 1,
        _ body: (inout LineReader, LineWriter) async throws -> R
    ) async throws -> R {
        try await channel.executeThenClose { inbound, outbound in
            var reader = LineReader(inbound: inbound, limits: limits)
            let writer = LineWriter(outbound: outbound, zstdLevel: zstdLevel)
            return try await body(&reader, writer)
        }
    }

    /// Connects to a socket endpoint.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` (nobody listening, refused, unreachable).
    public static func connect(to endpoint: Endpoint) async throws(RunnelError) -> LineConnection {
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

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return "\(io.description)" }
        return "\(error)"
    }
}

/// Reads decoded lines from a link. Not shared between tasks.
public struct LineReader {
    private var iterator: NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    private let decoder: StreamDecoder
    private var lines: [WireLine] = []
    private var next = 0
    private var failure: RunnelError?
    private var ended = false

    init(inbound: NIOAsyncChannelInboundStream<ByteBuffer>, limits: Limits) {
        iterator = inbound.makeAsyncIterator()
        decoder = StreamDecoder(limits: limits)
    }

    /// The next line, or `nil` when the peer closed the link cleanly.
    /// - Throws: ``RunnelError`` for a line or stream that breaks the protocol (after every
    ///   valid line before it was returned), or when the connection fails.
    public mutating func next() async throws(RunnelError) -> WireLine? {
        while true {
            if next < lines.count {
                defer { next += 1 }
                return lines[next]
            }
            if let failure { throw failure }
            if ended { return nil }
            lines.removeAll(keepingCapacity: true)
            next = 0
            let buffer: ByteBuffer?
            do {
                buffer = try await iterator.next()
            } catch {
                throw RunnelError(.unavailable, "connection failed: \(LineConnection.describe(error))")
            }
            var decoded: [WireLine] = []
            var problem: RunnelError?
            let decoder = self.decoder
            do {
                if let buffer {
                    try buffer.withUnsafeReadableBytes { raw in
                        try decoder.feed(raw) { event in
                            guard problem == nil else { return }
                            switch event {
                            case let .invalid(error): problem = error
                            case let .line(bytes, number):
                                do throws(RunnelError) {
                                    decoded.append(try WireLine(line: bytes))
                                } catch {
                                    problem = error.at(.line(number))
                                }
                            }
                        }
                    }
                } else {
                    ended = true
                    try decoder.finish { event in
                        if case let .line(bytes, number) = event, problem == nil {
                            do throws(RunnelError) { decoded.append(try WireLine(line: bytes)) } catch {
                                problem = error.at(.line(number))
                            }
                        }
                    }
                }
            } catch {
                problem = problem ?? (error as? RunnelError ?? RunnelError(.dataLoss, "\(error)"))
            }
            lines = decoded
            failure = problem
        }
    }
}

/// Writes lines to a link as one zstd stream, flushed per call. Safe to share between tasks.
public actor LineWriter {
    private let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    private let encoder: StreamEncoder

    init(outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, zstdLevel: Int) {
        self.outbound = outbound
        encoder = StreamEncoder(format: .zstd(level: zstdLevel))
    }

    /// Sends lines; the peer can decode all of them when this returns.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` when the connection is gone.
    public func send(_ lines: [WireLine]) async throws(RunnelError) {
        for line in lines { encoder.append(line) }
        try await flush()
    }

    /// Sends data messages with their sequence numbers set.
    public func send(_ messages: [(seq: UInt64, envelope: Envelope)]) async throws(RunnelError) {
        for (seq, envelope) in messages {
            var message = envelope
            message.seq = seq
            encoder.append(message)
        }
        try await flush()
    }

    public func send(_ control: ControlMessage) async throws(RunnelError) {
        encoder.append(control)
        try await flush()
    }

    /// Ends the zstd frame, so the peer sees a whole stream, then stops writing.
    public func finish() async {
        guard let bytes = try? encoder.finish(), !bytes.isEmpty else { return }
        try? await outbound.write(ByteBuffer(bytes: bytes))
        outbound.finish()
    }

    private func flush() async throws(RunnelError) {
        let bytes = try encoder.flush()
        do {
            try await outbound.write(ByteBuffer(bytes: bytes))
        } catch {
            throw RunnelError(.unavailable, "connection lost while writing: \(LineConnection.describe(error))")
        }
    }
}
