import NIOCore
import NIOPosix
import RunnelProtocol
import Synchronization

/// A raw client for the control and metrics tests: sends bytes, reads what comes back. On NIO, so
/// a test never blocks a thread of the cooperative pool (the services under test run there).
enum ControlTestClient {
    enum Address {
        case unix(String)
        case tcp(port: Int)
    }

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(_ address: Address) async throws -> Connection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connectTimeout(.seconds(20))
        let wrap: @Sendable (any Channel) -> EventLoopFuture<Connection> = { channel in
            channel.eventLoop.makeCompletedFuture { try Connection(wrappingChannelSynchronously: channel) }
        }
        switch address {
        case let .unix(path): return try await bootstrap.connect(unixDomainSocketPath: path, channelInitializer: wrap)
        case let .tcp(port): return try await bootstrap.connect(host: "127.0.0.1", port: port, channelInitializer: wrap)
        }
    }

    /// Sends `bytes`, then reads until `lines` lines came, or (`untilClosed`) until the server
    /// closes; all within 20 s (then the connection is closed and what came is returned).
    static func exchange(_ address: Address, _ bytes: [UInt8], lines: Int = 0, untilClosed: Bool = false) async throws -> [String] {
        let connection = try await connect(address)
        let deadline = connection.channel.eventLoop.scheduleTask(in: .seconds(20)) { connection.channel.close(promise: nil) }
        defer { deadline.cancel() }
        return try await connection.executeThenClose { inbound, outbound in
            try? await outbound.write(ByteBuffer(bytes: bytes))  // the server may close before it read all (a line too long)
            return try await read(inbound, lines: lines, untilClosed: untilClosed)
        }
    }

    /// Reads lines from `inbound` (see ``exchange(_:_:lines:untilClosed:)``).
    static func read(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, lines: Int, untilClosed: Bool = false) async throws -> [String] {
        var received: [UInt8] = []
        var iterator = inbound.makeAsyncIterator()
        while untilClosed || received.count(where: { $0 == 0x0A }) < lines {
            guard let buffer = try? await iterator.next() else { break }
            received += buffer.readableBytesView
        }
        return received.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(received.last == 0x0A ? 1 : 0)
            .map { String(decoding: $0, as: UTF8.self) }
    }
}
