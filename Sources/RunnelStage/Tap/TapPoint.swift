import Foundation
import NIOCore
import NIOPosix
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where `runnel tap` watches a running stage: a Unix socket on which any number of tappers get
/// copies of the stage's inputs and outputs as plain JSON lines (PROTOCOL.md §9.3).
///
/// A tap never disturbs the stage's flow: each tapper has its own bounded buffer, written to its
/// socket by NIO (no thread of its own); when a tapper reads slower than the stage works, the
/// lines that do not fit are dropped for that tapper alone, and it is told how many with a
/// `{"ctl":"tap-dropped","dropped":N}` line (N counts from the start of its tap). When nobody
/// taps, ``publish(_:_:)`` costs one atomic load.
///
/// ```swift
/// let tap = try TapPoint(path: "/run/runnel/news/parse.tap.4242.sock")
/// tap.publish(.inputs, batch)        // in the stage's loop
/// await tap.close()                  // at exit
/// ```
public final class TapPoint: Sendable {
    /// Which of the stage's messages a tapper wants.
    public enum Side: String, Sendable, Codable {
        case inputs, outputs
    }

    /// Lines kept for one tapper that has not read them yet.
    public static let bufferLimit = 1024
    /// How long a tapper has to send its request line.
    public static let requestTimeout: Duration = .seconds(2)
    /// How long ``close()`` lets tappers take what they are owed.
    public static let closeTimeout: Duration = .milliseconds(500)

    public let path: String
    private let server: EventLoopFuture<any Channel>
    private let registry = TapRegistry()
    private let closed = Atomic(false)

    /// Binds the socket (private to the user: mode 0600) and starts accepting tappers.
    /// - Throws: ``RunnelError`` when the socket cannot be made.
    public init(path: String) throws(RunnelError) {
        self.path = path
        let socket = try BoundSocket.unix(path: path, backlog: 8)
        let registry = registry
        server = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handlers = channel.pipeline.syncOperations
                    try handlers.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: 64 << 10)))
                    try handlers.addHandler(TapRequestHandler(registry: registry))
                }
            }
            .withBoundSocket(socket.take()!)
    }

    /// Whether anyone is tapping.
    public var isTapped: Bool { registry.count.load(ordering: .relaxed) > 0 }

    /// Offers copies of messages to every tapper that wants them.
    public func publish(_ side: Side, _ messages: [Envelope]) {
        guard registry.count.load(ordering: .relaxed) > 0, !messages.isEmpty else { return }
        var lines: [[UInt8]]?
        for tapper in registry.all where tapper.request.wants(side) {
            if lines == nil {
                lines = messages.map { message in
                    var line: [UInt8] = []
                    message.appendLine(to: &line)
                    return line
                }
            }
            tapper.offer(zip(messages, lines!).filter { tapper.request.wants($0.0.type) }.map { $0.1 })
        }
    }

    /// Stops accepting and removes the socket; each tapper gets what it is owed and the final
    /// count of drops, then its connection is closed. Waits at most ``closeTimeout`` for
    /// tappers that do not read (suspending: the caller may be on one of the event loops the
    /// tappers' writes need).
    public func close() async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        server.whenSuccess { $0.close(promise: nil) }
        unlink(path)
        let current = registry.removeAll()
        guard !current.isEmpty else { return }
        let loop = MultiThreadedEventLoopGroup.singleton.any()
        let all = EventLoopFuture.andAllComplete(current.map { $0.finish() }, on: loop)
        let deadline = loop.scheduleTask(in: TimeAmount(Self.closeTimeout)) {
            for tapper in current { tapper.channel.close(promise: nil) }  // a tapper that does not read
        }
        try? await all.get()
        deadline.cancel()
    }
}

/// A tapper's request line: `{"sides":["inputs","outputs"],"types":[]}` (types empty: all).
struct TapRequest: Codable, Sendable {
    var sides: Set<TapPoint.Side>
    var types: Set<String>

    init(sides: Set<TapPoint.Side>, types: Set<String>) {
        self.sides = sides
        self.types = types
    }

    init(from decoder: any Decoder) throws {
        enum Keys: String, CodingKey { case sides, types }
        let container = try decoder.container(keyedBy: Keys.self)
        // Sides it does not know are left out (a newer watcher), as before.
        sides = Set(try container.decode([String].self, forKey: .sides).compactMap(TapPoint.Side.init(rawValue:)))
        types = Set(try container.decodeIfPresent([String].self, forKey: .types) ?? [])
    }

    func wants(_ side: TapPoint.Side) -> Bool { sides.contains(side) }
    func wants(_ type: String) -> Bool { types.isEmpty || types.contains(type) }
}

/// The tappers of one tap point.
final class TapRegistry: Sendable {
    private let tappers = Mutex<[ObjectIdentifier: Tapper]>([:])
    let count = Atomic(0)

    var all: [Tapper] { tappers.withLock { Array($0.values) } }

    func add(_ tapper: Tapper) {
        tappers.withLock { $0[ObjectIdentifier(tapper)] = tapper }
        count.add(1, ordering: .relaxed)
    }

    func remove(_ tapper: Tapper) {
        if tappers.withLock({ $0.removeValue(forKey: ObjectIdentifier(tapper)) }) != nil { count.subtract(1, ordering: .relaxed) }
    }

    func removeAll() -> [Tapper] {
        let all = tappers.withLock { t -> [Tapper] in
            defer { t = [:] }
            return Array(t.values)
        }
        count.store(0, ordering: .relaxed)
        return all
    }
}

/// One tapper: its wishes, its bounded buffer, and its connection. At most one write is on its
/// way to the socket at a time; what the stage offers meanwhile waits in the buffer, up to
/// ``TapPoint/bufferLimit`` lines, and the rest is counted as dropped.
final class Tapper: Sendable {
    private struct State {
        var pending: [[UInt8]] = []
        var dropped = 0
        var reported = 0
        /// A write is on its way (or about to be): offers need not start one.
        var writing = false
        /// The tap point is closing: write what is left, then close.
        var finishing = false
    }

    let channel: any Channel
    let request: TapRequest
    private let state = Mutex(State())

    init(channel: any Channel, request: TapRequest) {
        self.channel = channel
        self.request = request
    }

    /// Keeps what fits in the buffer and counts the rest as dropped; never waits for the socket.
    func offer(_ lines: [[UInt8]]) {
        guard !lines.isEmpty else { return }
        let start = state.withLock { s -> Bool in
            let room = max(TapPoint.bufferLimit - s.pending.count, 0)
            s.pending.append(contentsOf: lines.prefix(room))
            s.dropped += max(lines.count - room, 0)
            guard !s.writing else { return false }
            s.writing = true
            return true
        }
        if start { channel.eventLoop.execute { self.flush() } }
    }

    /// Writes what is owed and the final drop count, then closes; the future completes on close.
    func finish() -> EventLoopFuture<Void> {
        let start = state.withLock { s -> Bool in
            s.finishing = true
            guard !s.writing else { return false }
            s.writing = true
            return true
        }
        if start { channel.eventLoop.execute { self.flush() } }
        return channel.closeFuture
    }

    /// Sends what is buffered, with a `tap-dropped` line before it when more were dropped, and
    /// again when that write is done, until nothing is left.
    private func flush() {
        let (bytes, close) = state.withLock { s -> ([UInt8], Bool) in
            var out: [UInt8] = []
            if s.dropped > s.reported {
                out.append(contentsOf: #"{"ctl":"tap-dropped","dropped":\#(s.dropped)}"#.utf8)
                out.append(0x0A)
                s.reported = s.dropped
            }
            for line in s.pending { out.append(contentsOf: line) }
            s.pending = []
            if out.isEmpty { s.writing = false }
            return (out, out.isEmpty && s.finishing)
        }
        if close { channel.close(promise: nil) }
        guard !bytes.isEmpty else { return }
        channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenComplete { result in
            switch result {
            case .success: self.flush()
            case .failure: self.channel.close(promise: nil)
            }
        }
    }
}

/// Reads a tapper's request line (within ``TapPoint/requestTimeout``), answers
/// `{"ctl":"tap-ready"}` and registers it, or answers `bye` `INVALID_ARGUMENT` and closes.
/// Whatever the tapper sends after its request is ignored; its going away unregisters it.
final class TapRequestHandler: ChannelInboundHandler {
    typealias InboundIn = LineFrameDecoder.Frame
    typealias OutboundOut = ByteBuffer

    private let registry: TapRegistry
    private var tapper: Tapper?
    private var deadline: Scheduled<Void>?

    init(registry: TapRegistry) {
        self.registry = registry
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        deadline = context.eventLoop.scheduleTask(in: TimeAmount(TapPoint.requestTimeout)) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard tapper == nil else { return }
        deadline?.cancel()
        guard case let .line(line) = unwrapInboundIn(data),
            let request = try? JSONDecoder().decode(TapRequest.self, from: Data(line.readableBytesView))
        else {
            var bye: [UInt8] = []
            ControlMessage.bye(
                Bye(code: .invalidArgument, message: #"a tap starts with a request line such as {"sides":["inputs","outputs"],"types":[]}"#)
            ).appendLine(to: &bye)
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(bytes: bye))).whenComplete { [channel = context.channel] _ in
                channel.close(promise: nil)
            }
            return
        }
        let tapper = Tapper(channel: context.channel, request: request)
        self.tapper = tapper
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: #"{"ctl":"tap-ready"}"# + "\n")), promise: nil)
        registry.add(tapper)
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        if let tapper { registry.remove(tapper) }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}
