import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

/// Sends messages to a stage over a socket with the same machinery as every stage's output
/// (credits, cumulative acks, reconnects with backoff, resending what was not acked), for tools
/// that produce messages themselves: `runnel replay`.
///
/// ```swift
/// let sender = ReliableSender(endpoint: try Endpoint(parsing: "unix:/tmp/rn/parse.sock"))
/// sender.start()
/// await sender.send(messages)                  // waits while too many are unacked
/// let unacked = await sender.finish(timeout: .seconds(30))
/// ```
public final class ReliableSender: Sendable {
    /// How the sender links up; every field has a default.
    public struct Options: Sendable {
        /// The name it gives itself in `hello` and in log lines.
        public var name = "replay"
        public var key: SharedKey?
        /// `"call"` asks the receiver to send each input's outputs back on the link (§7.10).
        public var mode: String?
        /// Unacked messages kept before ``send(_:)`` waits.
        public var capacity = 1024
        public var ackTimeout: Duration = .seconds(30)
        public var maxDeliveries = 5

        public init() {}
    }

    /// What happened to the messages so far.
    public struct Progress: Sendable, Hashable {
        /// Acked by the receiver.
        public var acked = 0
        /// Refused for good (a final nack, or a message the receiver kept crashing on).
        public var failed = 0
    }

    /// The counters, in a box the link's callbacks can hold.
    private final class Counters: Sendable {
        let value = Mutex(Progress())
    }

    private let downstream: LinkDownstream
    private let counters: Counters

    /// - Parameters:
    ///   - endpoint: the receiver, `unix:` or `tcp://`.
    ///   - logger: where to say what happens to the link (reconnects, refusals); by default
    ///     one that names `options.name` as the stage.
    ///   - onReply: in call mode, each output the receiver sends back, with the number of the
    ///     connection it came on (outputs of a resent input come again on a later connection).
    public init(
        endpoint: Endpoint, options: Options = Options(), logger: Logger? = nil,
        onReply: (@Sendable (Envelope, _ connection: Int) -> Void)? = nil
    ) {
        let logger = logger ?? Logger(stage: options.name)
        let hello = Hello(stage: options.name, accepts: [], emits: ["*"], mode: options.mode)
        let counters = Counters()
        self.counters = counters
        downstream = LinkDownstream(
            endpoint: endpoint, handshake: Handshake(local: hello, key: options.key), capacity: options.capacity,
            maxDeliveries: options.maxDeliveries, ackTimeout: options.ackTimeout, logger: logger,
            deadLetter: { message, error, _ in
                counters.value.withLock { $0.failed += 1 }
                logger.warning("message \(message.envelope.id) failed: \(error.code.name): \(error.message)")
                message.ticket.release()
            },
            onReply: onReply)
    }

    /// Starts connecting in the background.
    public func start() async {
        await downstream.start()
    }

    /// Queues messages; suspends while the receiver holds too many unacked (backpressure).
    public func send(_ messages: [Envelope]) async {
        let counters = counters
        let outgoing = messages.map { message in
            Outgoing(envelope: message, ticket: Ticket(count: 1) { counters.value.withLock { $0.acked += 1 } })
        }
        await downstream.send(outgoing)
    }

    /// What happened so far; `failed` messages were dead-lettered, the rest of those sent wait.
    public var progress: Progress {
        var current = counters.value.withLock { $0 }
        current.acked -= current.failed  // a refused message's ticket is released too
        return current
    }

    /// Waits for every ack while acks keep coming (it gives up after `timeout` without any),
    /// then closes the link politely.
    /// - Returns: how many messages were never acked.
    public func finish(timeout: Duration) async -> Int {
        let unacked = await downstream.drain(timeout: timeout)
        await downstream.stop()
        return unacked
    }

    /// Connections opened so far.
    public func connections() async -> Int {
        await downstream.reconnects
    }
}
