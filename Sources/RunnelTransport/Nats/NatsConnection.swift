import CNats
import Dispatch
import RunnelProtocol
import Synchronization

/// One connection to a NATS server and its JetStream context, over the C client (CNats).
///
/// Every C call may block (a round trip, a fetch's long poll), so none runs on a NIO event loop
/// or Swift's cooperative pool: this type runs them on its own serial `DispatchQueue` and
/// resumes the caller through a continuation. After the first connection the client reconnects
/// by itself; calls made while it is away fail with `UNAVAILABLE` or wait in its buffer.
///
/// ```swift
/// let nats = try await NatsConnection.connect(to: endpoint, name: "parse") { answer in … }
/// try await nats.ensureStream()
/// let errors = await nats.publish([.init(id: envelope.id, type: envelope.type, payload: bytes)], maxWait: .seconds(5))
/// ```
public final class NatsConnection: @unchecked Sendable {
    /// JetStream's answer to one publish, by message id.
    public struct Published: Sendable {
        public var id: String
        /// `nil` when JetStream stored the message (or had it already).
        public var error: RunnelError?
        /// JetStream had this id already (a resend within the duplicate window).
        public var duplicate: Bool
    }

    /// One message to publish.
    public struct Outbound: Sendable {
        public var id: String
        public var type: String
        public var payload: [UInt8]

        public init(id: String, type: String, payload: [UInt8]) {
            self.id = id
            self.type = type
            self.payload = payload
        }
    }

    public let endpoint: NatsEndpoint
    // `handle` is used only on `queue`, except by a subscription's fetch (the C client is
    // thread-safe per connection) and `isConnected`.
    private let handle: OpaquePointer
    private let handler: Unmanaged<PublishHandler>?
    let queue: DispatchQueue
    private let closed = Mutex(false)

    private init(endpoint: NatsEndpoint, handle: OpaquePointer, handler: Unmanaged<PublishHandler>?, queue: DispatchQueue) {
        self.endpoint = endpoint
        self.handle = handle
        self.handler = handler
        self.queue = queue
    }

    /// Connects once (no retries: the caller decides how to wait and what to log).
    /// - Parameters:
    ///   - name: the client name the server shows (`runnel parse`).
    ///   - maxPendingPublishes: publishes awaiting JetStream's answer before `publish` stalls.
    ///   - onPublished: JetStream's answer to each publish, on one of the client's threads.
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` when no server answers at the endpoint.
    public static func connect(
        to endpoint: NatsEndpoint, name: String, timeout: Duration = .seconds(2), maxPendingPublishes: Int = 4096,
        onPublished: (@Sendable (Published) -> Void)? = nil
    ) async throws(RunnelError) -> NatsConnection {
        let queue = DispatchQueue(label: "runnel.nats.\(endpoint.subject)")
        let handler = onPublished.map { Unmanaged.passRetained(PublishHandler($0)) }
        let result: Result<CHandle, RunnelError> = await withCheckedContinuation { continuation in
            queue.async {
                var error = runnel_nats_error()
                let url = endpoint.serverURL
                let wait = Self.milliseconds(timeout)
                let pointer: OpaquePointer?
                if let handler {
                    pointer = runnel_nats_connect(
                        url, name, wait, Int64(maxPendingPublishes),
                        { context, id, code, duplicate, text in publishAnswered(context, id, code, duplicate, text) },
                        handler.toOpaque(), &error)
                } else {
                    pointer = runnel_nats_connect(url, name, wait, Int64(maxPendingPublishes), nil, nil, &error)
                }
                if let pointer {
                    continuation.resume(returning: .success(CHandle(pointer)))
                } else {
                    continuation.resume(returning: .failure(Self.error(error, "NATS at \(url)")))
                }
            }
        }
        switch result {
        case let .success(handle):
            return NatsConnection(endpoint: endpoint, handle: handle.pointer, handler: handler, queue: queue)
        case let .failure(error):
            handler?.release()
            throw error
        }
    }

    /// Whether the client is connected now (not reconnecting, not closed).
    public var isConnected: Bool {
        closed.withLock { $0 } ? false : runnel_nats_is_connected(handle) != 0
    }

    /// Creates the endpoint's work-queue stream unless it exists.
    /// - Throws: ``RunnelError``: `UNAVAILABLE` when the server is away or has no JetStream
    ///   (`nats-server -js`), `FAILED_PRECONDITION` when the server refuses the stream.
    public func ensureStream() async throws(RunnelError) {
        try await call("cannot set up stream \(endpoint.stream) for \(endpoint.subject)") { handle, error in
            runnel_nats_ensure_stream(
                handle, self.endpoint.stream, self.endpoint.subject, self.endpoint.memoryStorage ? 1 : 0, 120_000, &error) == 0
                ? () : nil
        }
    }

    /// Creates (or updates the ack wait of) the durable pull consumer named `durable`.
    public func ensureConsumer(durable: String) async throws(RunnelError) {
        try await call("cannot set up consumer \(durable) on stream \(endpoint.stream)") { handle, error in
            runnel_nats_ensure_consumer(
                handle, self.endpoint.stream, durable, self.endpoint.subject, Self.milliseconds(self.endpoint.ackWait),
                Int64(self.endpoint.maxAckPending), &error) == 0
                ? () : nil
        }
    }

    /// How many messages of `stream` are still to be done: not yet delivered, or delivered and
    /// not yet acked. 0 when the stream does not exist (nothing was published to it).
    ///
    /// ```swift
    /// try await nats.queueDepth(stream: "RUNNEL_news_parse")   // 0: parse has done all it was given
    /// ```
    /// - Throws: ``RunnelError`` `UNAVAILABLE` when the server is away.
    public func queueDepth(stream: String) async throws(RunnelError) -> UInt64 {
        try await call("cannot read the depth of stream \(stream)") { handle, error in
            var depth: UInt64 = 0
            return runnel_nats_queue_depth(handle, stream, &depth, &error) == 0 ? depth : nil
        }
    }

    /// A pull subscription bound to the durable consumer (which must exist).
    public func subscribe(durable: String) async throws(RunnelError) -> NatsPullSubscription {
        let sub = try await call("cannot subscribe to \(endpoint.subject) as \(durable)") { handle, error in
            runnel_nats_pull_subscribe(handle, self.endpoint.stream, durable, self.endpoint.subject, &error).map(CHandle.init)
        }
        return NatsPullSubscription(connection: self, handle: sub.pointer)
    }

    /// Hands messages to the client to publish to the endpoint's subject with `Nats-Msg-Id`;
    /// JetStream's answers come to `onPublished`, or a timeout after `maxWait`.
    /// - Returns: per message, the error that kept it from being sent at all (`nil`: on its way).
    public func publish(_ messages: [Outbound], maxWait: Duration) async -> [RunnelError?] {
        await withCheckedContinuation { continuation in
            queue.async {
                guard !self.closed.withLock({ $0 }) else {
                    continuation.resume(returning: messages.map { _ in RunnelError(.unavailable, "the NATS connection is closed") })
                    return
                }
                let wait = Self.milliseconds(maxWait)
                let errors = messages.map { message -> RunnelError? in
                    var error = runnel_nats_error()
                    let status = message.payload.withUnsafeBytes { bytes in
                        runnel_nats_publish(
                            self.handle, self.endpoint.subject, message.id, message.type, bytes.baseAddress, Int32(bytes.count),
                            wait, &error)
                    }
                    return status == 0 ? nil : Self.error(error, "cannot publish \(message.id) to \(self.endpoint.subject)")
                }
                continuation.resume(returning: errors)
            }
        }
    }

    /// Waits up to `timeout` for outstanding publish answers, flushes pending acks, closes.
    /// Messages settled afterwards are only freed.
    public func close(timeout: Duration = .seconds(2)) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                let first = self.closed.withLock { closed -> Bool in
                    defer { closed = true }
                    return !closed
                }
                if first { runnel_nats_close(self.handle, Self.milliseconds(timeout)) }
                continuation.resume()
            }
        }
        // The pub-ack handler stays retained: the client's callback thread may still be on its
        // way out of it, and one small object per connection is cheaper than that race.
    }

    var isClosed: Bool { closed.withLock { $0 } }

    // MARK: Settling fetched messages (on `queue`, in order)

    func settle(_ message: NatsMessage, _ action: NatsMessage.Settlement, log: (@Sendable (String) -> Void)?) {
        queue.async {
            guard let pointer = message.take(final: action != .inProgress) else { return }
            guard !self.closed.withLock({ $0 }) else {
                if action != .inProgress { runnel_nats_msg_destroy(pointer) }
                return
            }
            var error = runnel_nats_error()
            let status: Int32
            switch action {
            case .ack: status = runnel_nats_msg_ack(pointer, &error)
            case let .nak(delay): status = runnel_nats_msg_nak(pointer, Self.milliseconds(delay), &error)
            case .term: status = runnel_nats_msg_term(pointer, &error)
            case .inProgress: status = runnel_nats_msg_in_progress(pointer, &error)
            }
            if status != 0, let log {
                let failure = Self.error(error, "stream sequence \(message.streamSequence)")
                log("\(failure.code.name): \(failure.message); JetStream will deliver it again after the ack wait")
            }
            if action != .inProgress { runnel_nats_msg_destroy(pointer) }
        }
    }

    // MARK: Helpers

    /// Runs `body` on the queue; `nil` from it means it failed and filled in the error.
    private func call<T: Sendable>(
        _ what: String, _ body: @escaping @Sendable (OpaquePointer, inout runnel_nats_error) -> T?
    ) async throws(RunnelError) -> T {
        let result: Result<T, RunnelError> = await withCheckedContinuation { continuation in
            queue.async {
                guard !self.closed.withLock({ $0 }) else {
                    continuation.resume(returning: .failure(RunnelError(.unavailable, "\(what): the NATS connection is closed")))
                    return
                }
                var error = runnel_nats_error()
                if let value = body(self.handle, &error) {
                    continuation.resume(returning: .success(value))
                } else {
                    continuation.resume(returning: .failure(Self.error(error, what)))
                }
            }
        }
        return try result.get()
    }

    static func error(_ error: runnel_nats_error, _ what: String) -> RunnelError {
        let text = withUnsafeBytes(of: error.text) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
        var code = StatusCode(rawValue: Int(error.code)) ?? .unknown
        if code == .ok { code = .unknown }
        return RunnelError(code, "\(what): \(text)")
    }

    static func milliseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }
}

/// A C handle carried across a continuation (used on one queue at a time).
struct CHandle: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
}

/// The C client's answer to one publish, handed to the Swift closure behind `context`.
private func publishAnswered(
    _ context: UnsafeMutableRawPointer?, _ id: UnsafePointer<CChar>?, _ code: Int32, _ duplicate: Int32,
    _ text: UnsafePointer<CChar>?
) {
    guard let context else { return }
    let handler = Unmanaged<PublishHandler>.fromOpaque(context).takeUnretainedValue()
    let id = id.map { String(cString: $0) } ?? ""
    let failure =
        code == 0
        ? nil
        : RunnelError(
            StatusCode(rawValue: Int(code)) ?? .unknown,
            "JetStream did not store message \(id): \(text.map { String(cString: $0) } ?? "")")
    handler.callback(NatsConnection.Published(id: id, error: failure, duplicate: duplicate != 0))
}

/// The Swift closure behind the C pub-ack callback's context pointer.
final class PublishHandler: Sendable {
    let callback: @Sendable (NatsConnection.Published) -> Void
    init(_ callback: @escaping @Sendable (NatsConnection.Published) -> Void) { self.callback = callback }
}
