import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

/// Input from a NATS JetStream work queue (`--listen nats://host:port/subject`).
///
/// The runner pulls batches from a durable consumer named after the stage, so every replica of
/// the stage shares one queue. The JetStream acks map onto Runnel's end-to-end acks:
///
/// | what became of the input | JetStream |
/// |---|---|
/// | every output acked downstream (pub-acked by JetStream, or acked by a socket) | ack |
/// | failed with a retryable status (after the stage's own tries) | nak with a backoff delay, until `maxDeliveries` |
/// | failed otherwise, or its deliveries are spent: written to the dead-letter log | term |
/// | still waiting for downstream acks | "in progress" every third of the ack wait |
/// | the replica died holding it | redelivered to another replica after the ack wait |
extension LinkRunner {
    func readNats(_ endpoint: NatsEndpoint) async throws(RunnelError) {
        let durable = endpoint.durable ?? NatsEndpoint.consumerName(for: name)
        let held = HeldMessages()
        draining.onRaise { held.stopWaitingForRoom() }
        let maxDeliveries = options.maxDeliveries
        let settleLog: @Sendable (String) -> Void = { [logger] line in logger.warning("\(line)") }
        let outage = Outage(logger: logger)
        let tick = max(endpoint.ackWait / 3, .milliseconds(100))
        let ticker = Task {
            // Messages still being worked on: tell JetStream, so it does not hand them to another replica.
            while !Task.isCancelled {
                try? await Task.sleep(for: tick)
                held.touch(log: settleLog)
            }
        }
        defer { ticker.cancel() }

        var connection: NatsConnection?
        var subscription: NatsPullSubscription?
        var backoff = Duration.milliseconds(100)
        func pause() async {
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
        var pull = PullSize(window: options.windowInForce, windowBytes: options.windowBytes)
        while !isDraining {
            if subscription == nil {
                do throws(RunnelError) {
                    let open: NatsConnection
                    if let connection {
                        open = connection
                    } else {
                        open = try await NatsConnection.connect(to: endpoint, name: "runnel \(name)")
                    }
                    connection = open
                    try await open.ensureStream()
                    try await open.ensureConsumer(durable: durable)
                    subscription = try await open.subscribe(durable: durable)
                    outage.recovered("reading \(endpoint.subject) as consumer \(durable) of stream \(endpoint.stream)")
                    backoff = .milliseconds(100)
                } catch where error.code == .unavailable {
                    outage.report(error)
                    await pause()
                    continue
                } catch {
                    // A refusal (a clashing consumer, bad permissions) does not heal by waiting.
                    await connection?.close()
                    throw error
                }
            }
            guard let source = subscription else { continue }
            // At most `window` messages and about `windowBytes` held: a slow downstream slows the
            // fetching. A drain ends the wait even while downstream acks have stopped.
            let count = pull.count
            await held.waitForRoom(atMost: options.windowInForce - count, bytes: options.windowBytes - pull.bytes)
            if isDraining { break }
            let messages: [NatsMessage]
            do {
                messages = try await source.fetch(max: count, timeout: .seconds(1))
            } catch {
                outage.report(error)
                if connection?.isConnected == true {
                    // Connected but the fetch failed (the consumer was deleted, say): set it up again.
                    await source.close()
                    subscription = nil
                }
                await pause()
                continue
            }
            guard !messages.isEmpty else { continue }
            outage.recovered("reading \(endpoint.subject) again")
            pull.learn(messages.lazy.map(\.payload.count))

            let redelivered = messages.filter { $0.deliveries > 1 }.count
            if redelivered > 0 {
                logger.info("\(redelivered) messages redelivered by JetStream (a replica stopped before acking them, or they were handed back)")
            }
            let now = ClockReading.now
            var jobs: [Job] = []
            for message in messages {
                held.add(message)
                let finish: @Sendable (NatsMessage.Settlement) -> Void = { settlement in
                    held.remove(message)
                    message.settle(settlement, log: settleLog)
                }
                do throws(RunnelError) {
                    guard case var .data(envelope) = try WireLine(line: message.payload) else {
                        throw RunnelError(.invalidArgument, "a control message on a JetStream subject; only data messages belong there")
                    }
                    envelope.seq = nil
                    envelope.countAttempts(message.deliveries - 1)
                    let redelivery = Redelivery(
                        delivery: max(message.deliveries, 1),
                        retryLater: { delay in
                            guard message.deliveries < maxDeliveries else { return false }
                            finish(.nak(delay: delay))
                            return true
                        },
                        abandon: { finish(.term) })
                    jobs.append(Job(received: .init(envelope, arrival: now), done: { finish(.ack) }, redelivery: redelivery))
                } catch {
                    // Not a message: its error record goes on, and JetStream must not offer it again.
                    let raw = String(decoding: message.payload.prefix(4096), as: UTF8.self)
                    let detail = "stream \(endpoint.stream) sequence \(message.streamSequence)"
                    let record = processor.errorRecord(RunnelError(error.code, "\(error.message) (\(detail))"), rawLine: raw)
                    jobs.append(errorJob(record, done: { finish(.term) }))
                }
            }
            stats.withLock { $0.received += jobs.count }
            // A drain may have closed the queue meanwhile: what it drops is read and not sent.
            let dropped = queue.push(jobs)
            if dropped > 0 { parts.withLock { $0.unsent += dropped } }
        }

        // Draining: finish what is held while downstream acks keep coming, then close (the
        // acks go out first: they are queued ahead of the close). What is left unacked goes to
        // another replica after the ack wait.
        // Each message settled restarts the wait; `drainTimeout` without one ends it.
        var count = held.count
        while count > 0, await held.waitForChange(from: count, timeout: options.drainTimeout) { count = held.count }
        ticker.cancel()
        await subscription?.close()
        await connection?.close()
    }

    /// The status of a failure that may go through when tried again: every dead letter of the
    /// input has a retryable code. `nil` when one of them is final.
    func retryableFailure(_ deadLetters: [Envelope]) -> StatusCode? {
        var code: StatusCode?
        for record in deadLetters {
            guard let body = try? record.body.decode(ErrorRecord.self), body.code.isRetryable else { return nil }
            code = body.code
        }
        return code
    }
}

/// The JetStream messages a runner holds (fetched, not yet settled).
final class HeldMessages: Sendable {
    private struct Waiter {
        let id: UInt64
        /// Waiting for at most this many held, and at most these payload bytes; `nil`: for any change.
        let limit: (count: Int, bytes: Int)?
        let continuation: CheckedContinuation<Bool, Never>
    }

    private struct State {
        var messages: [ObjectIdentifier: NatsMessage] = [:]
        /// The payload bytes of `messages`.
        var bytes = 0
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        /// Timed out before they were registered (their wait returns at once).
        var expired: Set<UInt64> = []
        var roomClosed = false

        func satisfies(_ waiter: Waiter) -> Bool {
            guard let limit = waiter.limit else { return true }
            return messages.count <= limit.count && bytes <= limit.bytes
        }

        /// Takes the waiters the current count satisfies.
        mutating func takeReady() -> [Waiter] {
            guard !waiters.isEmpty else { return [] }
            let ready = waiters.filter(satisfies)
            waiters.removeAll(where: satisfies)
            return ready
        }
    }

    private let state = Mutex(State())

    func add(_ message: NatsMessage) {
        let ready = state.withLock { s in
            if s.messages.updateValue(message, forKey: ObjectIdentifier(message)) == nil { s.bytes += message.payload.count }
            return s.takeReady()
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    func remove(_ message: NatsMessage) {
        let ready = state.withLock { s in
            if s.messages.removeValue(forKey: ObjectIdentifier(message)) != nil { s.bytes -= message.payload.count }
            return s.takeReady()
        }
        for waiter in ready { waiter.continuation.resume(returning: true) }
    }

    var count: Int { state.withLock { $0.messages.count } }

    /// Returns once at most `limit` messages and at most `bytes` of payload are held, or
    /// ``stopWaitingForRoom()`` was called.
    func waitForRoom(atMost limit: Int, bytes: Int) async {
        _ = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let now = state.withLock { s -> Bool in
                s.nextID += 1
                let waiter = Waiter(id: s.nextID, limit: (limit, bytes), continuation: continuation)
                if s.roomClosed || s.satisfies(waiter) { return true }
                s.waiters.append(waiter)
                return false
            }
            if now { continuation.resume(returning: true) }
        }
    }

    /// Ends every wait for room, now and later (the runner drains).
    func stopWaitingForRoom() {
        let waiting = state.withLock { s -> [Waiter] in
            s.roomClosed = true
            let waiting = s.waiters.filter { $0.limit != nil }
            s.waiters.removeAll { $0.limit != nil }
            return waiting
        }
        for waiter in waiting { waiter.continuation.resume(returning: true) }
    }

    /// Waits until the number held is no longer `count` (a message was added or settled), or
    /// `timeout` passes.
    /// - Returns: `true` on a change, `false` on the timeout.
    func waitForChange(from count: Int, timeout: Duration) async -> Bool {
        let id = state.withLock { s -> UInt64 in
            s.nextID += 1
            return s.nextID
        }
        let timer = Task {
            try await Task.sleep(for: timeout)
            let waiter = state.withLock { s -> Waiter? in
                guard let index = s.waiters.firstIndex(where: { $0.id == id }) else {
                    s.expired.insert(id)
                    return nil
                }
                return s.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: false)
        }
        defer { timer.cancel() }
        return await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool? in
                if s.expired.remove(id) != nil { return false }
                if s.messages.count != count { return true }
                s.waiters.append(Waiter(id: id, limit: nil, continuation: continuation))
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
    }

    /// Restarts the ack timer of every held message.
    func touch(log: @escaping @Sendable (String) -> Void) {
        for message in state.withLock({ Array($0.messages.values) }) { message.settle(.inProgress, log: log) }
    }
}

/// How many messages one pull request asks JetStream for.
///
/// Each request is a round trip and work of its own for the server, so they are large: up to
/// half the window (at most 256), which lets the next request go out while the messages of the
/// last one are worked on. The stage's `--batch` is how many it handles together, not how many it
/// fetches: with requests of 64, a relay read a work queue at ~36k small messages/s; with 256,
/// ~58k, with a third less CPU a message in the relay and the server (issue 14). Large messages
/// ask for fewer, so a request brings about half of `windowBytes`: the count follows the average
/// size of the messages fetched so far, starting low until there is one.
struct PullSize {
    let window: Int
    let windowBytes: Int
    /// The average payload of the messages seen, smoothed; `nil` before the first.
    private(set) var averageBytes: Double?

    static let largest = 256
    /// Asked for while no message size is known yet.
    static let first = 16

    init(window: Int, windowBytes: Int) {
        self.window = max(window, 1)
        self.windowBytes = max(windowBytes, 1)
    }

    /// Messages to ask for: at least 1.
    var count: Int {
        let byCount = max(1, min(Self.largest, window / 2))
        guard let averageBytes else { return min(byCount, Self.first) }
        let byBytes = Double(windowBytes / 2) / max(averageBytes, 1)
        return byBytes >= Double(byCount) ? byCount : max(1, Int(byBytes))
    }

    /// The payload bytes `count` messages are expected to bring (room kept for them).
    var bytes: Int {
        guard let averageBytes else { return windowBytes / 2 }
        return min(windowBytes / 2, Int(min(averageBytes * Double(count), Double(windowBytes))))
    }

    /// Takes in the sizes of messages fetched.
    mutating func learn(_ sizes: some Sequence<Int>) {
        var total = 0
        var n = 0
        for size in sizes {
            total += size
            n += 1
        }
        guard n > 0 else { return }
        let mean = Double(total) / Double(n)
        averageBytes = averageBytes.map { $0 * 0.5 + mean * 0.5 } ?? mean
    }
}

/// Says that a NATS server is out of reach (and how the stage copes), again after 10 s, a
/// minute, ten minutes and then hourly while it stays away (as a link to a socket does), and
/// once that it is back.
final class Outage: Sendable {
    private let logger: Logger
    /// Set while the server is away.
    private let notice = Mutex<OutageNotice?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    func report(_ error: RunnelError, now: ContinuousClock.Instant = .now) {
        let (first, away) = notice.withLock { notice -> (Bool, Duration?) in
            guard notice != nil else {
                notice = OutageNotice(since: now)
                return (true, nil)
            }
            return (false, notice?.due(at: now))
        }
        if first {
            logger.warning("\(error.code.name): \(error.message); retrying with backoff")
        } else if let away {
            logger.warning(
                "\(error.code.name): \(error.message), for \(TimeSpan(.seconds(away.components.seconds))) now; still retrying: is nats-server running there, with JetStream (-js)?")
        }
    }

    func recovered(_ what: String) {
        let was = notice.withLock { notice -> Bool in
            defer { notice = nil }
            return notice != nil
        }
        if was { logger.info("NATS is back; \(what)") }
    }
}
