import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

/// Outputs published to a NATS JetStream subject (`--to nats://host:port/subject`).
///
/// Each output is published with `Nats-Msg-Id` set to its envelope id and is safe, its ticket
/// released, once JetStream answers that it stored it (or had it already: a resend within the
/// stream's duplicate window is dropped by JetStream, not stored twice). A retryable failure (no
/// answer in time, the server away) publishes it again after a backoff, for as long as it takes;
/// any other refusal (larger than the server's max_payload, say) dead-letters it.
final class NatsDownstream: Downstream, Sendable {
    private struct State {
        /// Published or waiting to be, not yet confirmed by JetStream, by envelope id.
        var pending: [String: [Outgoing]] = [:]
        var count = 0
        /// Waiting for a connection to be published on.
        var unsent: [Outgoing] = []
        var connection: NatsConnection?
        var connectionWaiters: [CheckedContinuation<NatsConnection?, Never>] = []
        var spaceWaiters: [CheckedContinuation<Void, Never>] = []
        var stopping = false
        var lastProgress = ContinuousClock.now
        var backoff = Duration.milliseconds(100)
    }

    private let endpoint: NatsEndpoint
    private let stage: String
    private let capacity: Int
    private let answerTimeout: Duration
    private let logger: Logger
    private let deadLetter: @Sendable (Outgoing, RunnelError) async -> Void
    private let state = Mutex(State())
    private let outage: Outage
    private let connector = Mutex<Task<Void, Never>?>(nil)

    /// - Parameters:
    ///   - capacity: outputs waiting for JetStream's answer before `send` suspends.
    ///   - answerTimeout: how long to wait for JetStream's answer before publishing again.
    init(
        endpoint: NatsEndpoint, stage: String, capacity: Int, answerTimeout: Duration,
        logger: Logger, deadLetter: @escaping @Sendable (Outgoing, RunnelError) async -> Void
    ) {
        self.endpoint = endpoint
        self.stage = stage
        self.capacity = max(capacity, 1)
        self.answerTimeout = answerTimeout
        self.logger = logger
        self.deadLetter = deadLetter
        outage = Outage(logger: logger)
    }

    /// Starts connecting in the background (and retrying until a server answers).
    func start() {
        connector.withLock { $0 = Task { await self.connectLoop() } }
    }

    /// Waits for JetStream's outstanding answers (briefly), then closes the connection.
    func stop() async {
        let (connection, waiters) = state.withLock { s -> (NatsConnection?, [CheckedContinuation<NatsConnection?, Never>]) in
            s.stopping = true
            defer { s.connectionWaiters = [] }
            return (s.connection, s.connectionWaiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
        connector.withLock { $0 }?.cancel()
        await connection?.close()
    }

    func send(_ messages: [Outgoing]) async {
        guard !messages.isEmpty else { return }
        while true {
            let wait = state.withLock { s -> Bool in
                s.count > 0 && s.count + messages.count > capacity && !s.stopping
            }
            guard wait else { break }
            await withCheckedContinuation { continuation in
                let now = state.withLock { s -> Bool in
                    if s.count == 0 || s.count + messages.count <= capacity || s.stopping { return true }
                    s.spaceWaiters.append(continuation)
                    return false
                }
                if now { continuation.resume() }
            }
        }
        let connection = state.withLock { s -> NatsConnection? in
            for message in messages { s.pending[message.envelope.id, default: []].append(message) }
            s.count += messages.count
            if s.connection == nil { s.unsent += messages }
            return s.connection
        }
        // Without a connection yet they wait in `unsent`: the connector publishes them.
        if let connection { await publish(messages, on: connection) }
    }

    /// Forgets what never reached a server (its inputs stay unacked: a source reads them again).
    func dropUnsent() async -> Int {
        let (dropped, waiters) = state.withLock { s -> (Int, [CheckedContinuation<Void, Never>]) in
            var dropped = 0
            for message in s.unsent {
                let id = message.envelope.id
                guard var list = s.pending[id], !list.isEmpty else { continue }
                list.removeLast()
                s.pending[id] = list.isEmpty ? nil : list
                dropped += 1
            }
            s.count -= dropped
            s.unsent = []
            let waiters = s.spaceWaiters
            s.spaceWaiters = []
            return (dropped, waiters)
        }
        for waiter in waiters { waiter.resume() }
        return dropped
    }

    /// Waits until JetStream answered for everything, as long as answers keep coming.
    func drain(timeout: Duration) async -> Int {
        state.withLock { $0.lastProgress = .now }
        while true {
            let (count, last) = state.withLock { ($0.count, $0.lastProgress) }
            if count == 0 || last.duration(to: .now) >= timeout { return count }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    // MARK: Publishing

    private func publish(_ messages: [Outgoing], on connection: NatsConnection) async {
        let outbound = messages.map { message -> NatsConnection.Outbound in
            var envelope = message.envelope
            envelope.seq = nil
            var line: [UInt8] = []
            envelope.appendLine(to: &line)
            line.removeLast()  // the newline: a NATS message is one envelope
            return NatsConnection.Outbound(id: envelope.id, type: envelope.type, payload: line)
        }
        let errors = await connection.publish(outbound, maxWait: answerTimeout)
        for (message, error) in zip(messages, errors) {
            if let error { failed(id: message.envelope.id, error) }
        }
    }

    /// JetStream's answer to one publish (on one of the NATS client's threads).
    private func answered(_ answer: NatsConnection.Published) {
        if let error = answer.error {
            failed(id: answer.id, error)
            return
        }
        let (done, waiters) = state.withLock { s -> (Outgoing?, [CheckedContinuation<Void, Never>]) in
            guard var list = s.pending[answer.id], !list.isEmpty else { return (nil, []) }
            let first = list.removeFirst()
            s.pending[answer.id] = list.isEmpty ? nil : list
            s.count -= 1
            s.lastProgress = .now
            s.backoff = .milliseconds(100)
            defer { s.spaceWaiters = [] }
            return (first, s.spaceWaiters)
        }
        for waiter in waiters { waiter.resume() }
        guard let done else { return }
        outage.recovered("publishing to \(endpoint.subject) again")
        done.ticket.release()
    }

    /// A publish that JetStream did not confirm: again later when that may help, else a dead letter.
    private func failed(id: String, _ error: RunnelError) {
        if error.code.isRetryable {
            outage.report(error)
            let (message, delay) = state.withLock { s -> (Outgoing?, Duration) in
                let delay = s.backoff
                s.backoff = min(s.backoff * 2, .seconds(5))
                return (s.pending[id]?.first, delay)
            }
            guard let message else { return }
            Task {
                try? await Task.sleep(for: delay)
                guard let connection = await self.connection() else { return }
                await self.publish([message], on: connection)
            }
            return
        }
        let (message, waiters) = state.withLock { s -> (Outgoing?, [CheckedContinuation<Void, Never>]) in
            guard var list = s.pending[id], !list.isEmpty else { return (nil, []) }
            let first = list.removeFirst()
            s.pending[id] = list.isEmpty ? nil : list
            s.count -= 1
            s.lastProgress = .now
            defer { s.spaceWaiters = [] }
            return (first, s.spaceWaiters)
        }
        for waiter in waiters { waiter.resume() }
        guard let message else { return }
        Task { await self.deadLetter(message, error) }
    }

    // MARK: Connection

    /// The connection once there is one; `nil` when stopping.
    private func connection() async -> NatsConnection? {
        await withCheckedContinuation { continuation in
            let ready = state.withLock { s -> NatsConnection?? in
                if let connection = s.connection { return .some(connection) }
                if s.stopping { return .some(nil) }
                s.connectionWaiters.append(continuation)
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func connectLoop() async {
        var backoff = Duration.milliseconds(100)
        while !Task.isCancelled && !state.withLock({ $0.stopping }) {
            do throws(RunnelError) {
                let connection = try await NatsConnection.connect(
                    to: endpoint, name: "runnel \(stage)", maxPendingPublishes: capacity * 2,
                    onPublished: { [weak self] answer in self?.answered(answer) })
                do throws(RunnelError) {
                    try await connection.ensureStream()
                } catch {
                    await connection.close()
                    throw error
                }
                let (waiters, unsent) = state.withLock { s -> ([CheckedContinuation<NatsConnection?, Never>], [Outgoing]) in
                    s.connection = connection
                    defer {
                        s.connectionWaiters = []
                        s.unsent = []
                    }
                    return (s.connectionWaiters, s.unsent)
                }
                for waiter in waiters { waiter.resume(returning: connection) }
                outage.recovered("publishing to \(endpoint.subject) (stream \(endpoint.stream))")
                if !unsent.isEmpty { await publish(unsent, on: connection) }
                return
            } catch {
                outage.report(error)
                // A refusal will not change by itself: keep trying, but slowly.
                if error.code != .unavailable { backoff = .seconds(5) }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
            }
        }
    }
}
