import CNats
import Dispatch
import RunnelProtocol
import Synchronization

/// A pull subscription on a durable JetStream consumer: fetch a batch, settle each message.
///
/// Fetches run one at a time on the subscription's own queue (a fetch blocks up to its
/// timeout); settling runs on the connection's queue.
public final class NatsPullSubscription: @unchecked Sendable {
    public let connection: NatsConnection
    // Used only on `queue`.
    private var handle: OpaquePointer?
    private let queue: DispatchQueue

    init(connection: NatsConnection, handle: OpaquePointer) {
        self.connection = connection
        self.handle = handle
        queue = DispatchQueue(label: "runnel.nats.fetch.\(connection.endpoint.subject)")
    }

    /// Up to `max` messages, waiting up to `timeout` for the first; empty when none came.
    /// - Throws: ``RunnelError``, `UNAVAILABLE` while the server is away.
    public func fetch(max: Int, timeout: Duration) async throws(RunnelError) -> [NatsMessage] {
        let result: Result<[NatsMessage], RunnelError> = await withCheckedContinuation { continuation in
            queue.async {
                guard let handle = self.handle, !self.connection.isClosed else {
                    continuation.resume(returning: .failure(RunnelError(.unavailable, "the NATS subscription is closed")))
                    return
                }
                var pointers = [OpaquePointer?](repeating: nil, count: max)
                var error = runnel_nats_error()
                let count = runnel_nats_fetch(handle, &pointers, Int32(max), NatsConnection.milliseconds(timeout), &error)
                guard count >= 0 else {
                    let endpoint = self.connection.endpoint
                    continuation.resume(
                        returning: .failure(NatsConnection.error(error, "cannot fetch from \(endpoint.subject) at \(endpoint.serverURL)")))
                    return
                }
                let messages = pointers.prefix(Int(count)).compactMap { pointer in
                    pointer.map { NatsMessage(pointer: $0, connection: self.connection) }
                }
                continuation.resume(returning: .success(messages))
            }
        }
        return try result.get()
    }

    /// Frees the subscription; the durable consumer stays on the server for the other replicas.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                if let handle = self.handle { runnel_nats_sub_destroy(handle) }
                self.handle = nil
                continuation.resume()
            }
        }
    }
}

/// A message fetched from JetStream: its payload, and the ways to settle it.
///
/// Settle it exactly once (ack, nak or term); `inProgress` may come before, any number of
/// times. Settlements go out in order on the connection's queue.
public final class NatsMessage: @unchecked Sendable {
    /// What to tell JetStream about a message.
    public enum Settlement: Sendable, Equatable {
        /// Done: remove it from the work queue.
        case ack
        /// Deliver it again after `delay` (to any replica).
        case nak(delay: Duration)
        /// Never deliver it again (it was dead-lettered).
        case term
        /// Still being worked on: restart its ack timer.
        case inProgress
    }

    public let payload: [UInt8]
    /// `Nats-Msg-Id`, when the publisher set one.
    public let messageID: String?
    /// How many times JetStream has delivered it, this time included.
    public let deliveries: Int
    public let streamSequence: UInt64
    private let connection: NatsConnection
    private let pointer: Mutex<CHandle?>

    init(pointer: OpaquePointer, connection: NatsConnection) {
        var length: Int32 = 0
        let data = runnel_nats_msg_data(pointer, &length)
        if let data, length > 0 {
            payload = Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
        } else {
            payload = []
        }
        messageID = runnel_nats_msg_header(pointer, "Nats-Msg-Id").map { String(cString: $0) }
        deliveries = Int(runnel_nats_msg_delivered(pointer))
        streamSequence = runnel_nats_msg_stream_sequence(pointer)
        self.connection = connection
        self.pointer = Mutex(CHandle(pointer))
    }

    /// Tells JetStream what became of the message; failures are reported through `log`.
    public func settle(_ settlement: Settlement, log: (@Sendable (String) -> Void)? = nil) {
        connection.settle(self, settlement, log: log)
    }

    /// The C message, or `nil` once settled; a final settlement takes it away.
    func take(final: Bool) -> OpaquePointer? {
        pointer.withLock { pointer in
            defer { if final { pointer = nil } }
            return pointer?.pointer
        }
    }

    deinit {
        if let handle = pointer.withLock({ $0 }) { runnel_nats_msg_destroy(handle.pointer) }
    }
}
