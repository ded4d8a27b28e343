import Logging
import RunnelProtocol
import RunnelTransport

/// Outputs to the next stage over a socket, with credits, cumulative acks and redelivery.
///
/// It connects (and reconnects, with exponential backoff) on its own; messages wait in the
/// ``OutboundWindow`` until the receiver grants credit, and stay there until acked. The window
/// holds at most `capacity` messages and about `maxBytes` of bodies: ``send(_:)`` waits while
/// either is reached, so a stage of large outputs (fetch's pages) that runs ahead of the next
/// stage holds a bounded amount of them, not `capacity` pages (issue 14). After a
/// reconnect every unacked message is sent again. A link whose acks are overdue is closed and
/// reopened (so its messages are resent); a nacked message is retried or, past
/// ``maxDeliveries``, dead-lettered, and so is one delivered that often without an ack.
actor LinkDownstream: Downstream {
    private let endpoint: Endpoint
    private let tls: TLSSettings
    private let handshake: Handshake
    private let capacity: Int
    /// The bodies' bytes the window may hold before ``send(_:)`` waits (one larger message
    /// still goes when the window is empty).
    private let maxBytes: Int
    /// The bodies' bytes of the messages the window holds, sent or not.
    private var bytes = 0
    private let ackTimeout: Duration
    /// The current link was closed here because its acks were overdue.
    private var closedForOverdueAcks = false
    private let logger: Logger
    /// Dead-letters a message given up on: the error, and the stage that refused it (the
    /// receiver, after its final nack; `nil` when this side gave up, PROTOCOL.md §7.5).
    private let deadLetter: @Sendable (Outgoing, RunnelError, _ refusedBy: String?) async -> Void
    /// What this side answers to `describe` and `health` from the receiver (PROTOCOL.md §7.6:
    /// both sides of a link answer them).
    private let service: ServiceDefinition
    private let health: @Sendable () -> HealthStatus
    /// In call mode (PROTOCOL.md §7.10), the outputs the receiver sends back, with the number of
    /// the connection they came on (a resent input's outputs come again on a later one).
    private let onReply: (@Sendable (Envelope, _ connection: Int) -> Void)?

    private var window: OutboundWindow<Outgoing>
    private var writer: LineWriter?
    private var connection: LineConnection?
    private var peerName = "?"
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var connectionTask: Task<Void, Never>?
    private var stopping = false
    private var lastProgress = ContinuousClock.now
    private(set) var connected = false
    private(set) var reconnects = 0
    /// Why the link was given up for good: the peer refused it ``refusalBudget`` times in a row
    /// (a certificate or key it does not trust, types it does not take). Nothing more is sent;
    /// the inputs of what was not acked stay unacked, so they are delivered again elsewhere.
    private(set) var refusal: RunnelError?
    private let onRefused: @Sendable (RunnelError) -> Void
    /// Refusals in a row before the link is given up (a refusal does not change by itself).
    private let maxRefusals: Int

    init(
        endpoint: Endpoint, tls: TLSSettings = TLSSettings(), handshake: Handshake, capacity: Int = 1024,
        maxBytes: Int = LinkDownstream.defaultMaxBytes, maxDeliveries: Int = 5,
        ackTimeout: Duration = .seconds(30), logger: Logger,
        service: ServiceDefinition? = nil, health: @escaping @Sendable () -> HealthStatus = { .serving },
        deadLetter: @escaping @Sendable (Outgoing, RunnelError, _ refusedBy: String?) async -> Void,
        onReply: (@Sendable (Envelope, _ connection: Int) -> Void)? = nil,
        maxRefusals: Int = 12, onRefused: @escaping @Sendable (RunnelError) -> Void = { _ in }
    ) {
        let local = handshake.local
        self.service =
            service
            ?? ServiceDefinition(
                name: local.stage, summary: "Sends messages over a link.", accepts: local.accepts, emits: local.emits)
        self.health = health
        self.maxRefusals = max(maxRefusals, 1)
        self.onReply = onReply
        self.onRefused = onRefused
        self.endpoint = endpoint
        self.tls = tls
        self.handshake = handshake
        self.capacity = capacity
        self.maxBytes = max(maxBytes, 1)
        self.ackTimeout = ackTimeout
        self.logger = logger
        self.deadLetter = deadLetter
        window = OutboundWindow(maxDeliveries: maxDeliveries)
    }

    /// Starts connecting in the background.
    func start() {
        guard connectionTask == nil else { return }
        connectionTask = Task { await self.connectLoop() }
    }

    /// Closes the link the polite way (`drain`, then the receiver's `bye`), and stops reconnecting.
    func stop() async {
        stopping = true
        guard let task = connectionTask else { return }
        if let writer {
            try? writer.send(.drain)
            let closer = Task {
                try? await Task.sleep(for: .seconds(2))
                // No bye came: end the zstd frame (§2.2) before the close, as a polite close does.
                await self.finishThenClose()
            }
            await task.value
            closer.cancel()
        } else {
            task.cancel()
            await task.value
        }
    }

    private func closeNow() {
        connection?.close()
        connectionTask?.cancel()
    }

    /// Ends this side's zstd frame and waits (1 s at most) for it to reach the socket, then closes.
    private func finishThenClose() async {
        if let writer {
            // The close at the bound fails the pending write, which ends the wait.
            let bound = Task {
                try? await Task.sleep(for: .seconds(1))
                self.closeNow()
            }
            await writer.finishAndFlush()
            bound.cancel()
        }
        closeNow()
    }

    private var isStopping: Bool { stopping }

    /// The bodies' bytes a window holds by default: what the next stage's default credit
    /// (``InboundWindow/defaultMaxBytes``) lets be in flight; more would only wait here unsent.
    static let defaultMaxBytes = InboundWindow.defaultMaxBytes

    func send(_ messages: [Outgoing]) async {
        while !hasRoom && refusal == nil {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        guard refusal == nil else { return }  // their inputs stay unacked: sent again elsewhere
        for message in messages where !message.ticket.isAbandoned {
            window.enqueue(message)
            bytes += Self.size(message)
        }
        pump()
    }

    /// Whether ``send(_:)`` may add to the window now.
    private var hasRoom: Bool { window.count < capacity && bytes < maxBytes }

    private static func size(_ message: Outgoing) -> Int { message.envelope.body.bytes.count }

    /// The window let go of these messages (acked, dead-lettered or dropped).
    private func forget(_ messages: some Sequence<Outgoing>) {
        for message in messages { bytes -= Self.size(message) }
    }

    /// Forgets the messages that were not sent yet (their inputs stay unacked: a source reads
    /// them again next time).
    func linkStatistics() -> LinkStatistics? {
        LinkStatistics(side: .output, connections: connected ? 1 : 0, credit: window.credit, inFlight: window.inFlight)
    }

    func dropUnsent() -> Int {
        let dropped = window.dropUnsent()
        forget(dropped)
        wakeSpace()
        return dropped.count
    }

    /// Waits until every message is acked, as long as acks keep coming: it gives up once
    /// `timeout` passes without any progress.
    func drain(timeout: Duration) async -> Int {
        lastProgress = .now
        let timer = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                self.wakeDrainWaiters()
            }
        }
        while !window.isEmpty && refusal == nil && lastProgress.duration(to: .now) < timeout {
            await withCheckedContinuation { drainWaiters.append($0) }
        }
        timer.cancel()
        return window.count
    }

    private func wakeDrainWaiters() {
        let waiters = drainWaiters
        drainWaiters = []
        for waiter in waiters { waiter.resume() }
    }

    // MARK: Sending

    /// Sends what the credit allows, in sequence order.
    private func pump() {
        guard let writer else { return }
        while true {
            let batch = window.takeSendable(now: .now, limit: 256)
            if batch.isEmpty { return }
            // A failed write means the link is gone: the reader sees it and calls `disconnected`.
            guard (try? writer.send(batch.map { ($0.seq, $0.item.envelope) })) != nil else { return }
        }
    }

    // MARK: Connection

    private nonisolated func connectLoop() async {
        var backoff = Duration.milliseconds(50)
        var outage: OutageNotice?
        var refusals = 0
        while !Task.isCancelled, await !isStopping {
            let connection: LineConnection
            do {
                connection = try await LineConnection.connect(to: endpoint, tls: tls)
            } catch {
                refusals = Self.isRefusal(error) ? refusals + 1 : 0
                if refusals >= maxRefusals {
                    await giveUp(error, after: refusals)
                    return
                }
                if Self.isRefusal(error) { backoff = .seconds(5) }
                if outage == nil {
                    logger.warning("\(error.code.name): \(error.message); retrying with backoff")
                    outage = OutageNotice(since: .now)
                } else if let away = outage?.due(at: .now) {
                    let waiting = await waitingCount
                    let messages = waiting == 1 ? "1 message waits" : "\(waiting) messages wait"
                    logger.warning(
                        "still cannot reach \(endpoint) after \(TimeSpan(.seconds(away.components.seconds))) of trying; \(messages) for it: is the next stage running there?")
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, Self.maxBackoff)
                continue
            }
            // Reached: a peer away long enough to be reported is said to be back once it answers.
            let awaySince = outage?.since
            outage = nil
            let watchdog = Task { await self.watch(connection) }
            let linksBefore = await reconnects
            do {
                try await connection.run { reader, writer in
                    let peer = try await self.handshake.connect(&reader, writer)
                    if let awaySince, awaySince.duration(to: .now) >= OutageNotice.reportsAfter[0] {
                        let away = TimeSpan(.seconds(awaySince.duration(to: .now).components.seconds))
                        self.logger.info("reached \(peer.stage) at \(self.endpoint) after \(away)")
                    }
                    await self.connected(writer: writer, connection: connection, peer: peer.stage)
                    do throws(RunnelError) {
                        while let input = try await reader.next() {
                            guard case let .line(line) = input else { continue }  // the receiver's problem to report
                            await self.handle(line)
                            if case let .control(.bye(bye)) = line {
                                // A refusal said after the handshake is a refusal all the same:
                                // tried again after 5 s, given up after --max-refusals (§7.7).
                                if Self.isRefusal(RunnelError(bye.code, "")) {
                                    throw RunnelError(bye.code, "\(peer.stage) refused the link: \(bye.message)")
                                }
                                return
                            }
                        }
                    } catch {
                        // A stream that breaks (DATA_LOSS) is told to the peer before the close (§7.9).
                        try? writer.send(.bye(Bye(code: error.code, message: error.message)))
                        throw error
                    }
                }
                backoff = .milliseconds(50)
                refusals = 0
            } catch let error as RunnelError {
                if Task.isCancelled { break }
                logger.warning("link to \(endpoint) \(error.code.name): \(error.message)")
                refusals = Self.isRefusal(error) ? refusals + 1 : 0
                if refusals >= maxRefusals {
                    watchdog.cancel()
                    await disconnected()
                    await giveUp(error, after: refusals)
                    return
                }
                if Self.isRefusal(error) {
                    // A refusal will not change by itself: try again slowly, a bounded number of times.
                    backoff = .seconds(5)
                }
            } catch {
                logger.warning("link to \(endpoint) failed: \(error)")
            }
            watchdog.cancel()
            await disconnected()
            if await isStopping { break }
            outage = nil
            if await reconnects > linksBefore, backoff < .seconds(5) {
                // The link was up: a peer that is restarted (a supervisor's, after a crash) is
                // tried again within 50 ms, not after the seconds earlier outages grew the wait to.
                backoff = .milliseconds(50)
            }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, Self.maxBackoff)
        }
    }

    /// The messages held for the peer, sent or not.
    private var waitingCount: Int { window.count }

    /// The longest wait between two tries to reach a peer that is away.
    static let maxBackoff = Duration.seconds(2)

    /// A peer's answer that trying again will not change: it does not trust this side's key or
    /// certificate (or this side does not trust its certificate), or it does not take these types.
    static func isRefusal(_ error: RunnelError) -> Bool {
        error.code == .unauthenticated || error.code == .failedPrecondition
    }

    /// Stops trying: says why, wakes whoever waits for room or acks, and tells the runner.
    private func giveUp(_ error: RunnelError, after refusals: Int) {
        let times = refusals == 1 ? "once" : "\(refusals) times in a row"
        let left =
            switch window.count {
            case 0: "nothing is waiting to be acked"
            case 1: "the 1 message not acked is left to be delivered again"
            case let count: "the \(count) messages not acked are left to be delivered again"
            }
        let reason = RunnelError(error.code, "\(endpoint) refused the link \(times) (\(error.message)); giving up, \(left)", cause: error)
        logger.error("\(reason.code.name): \(reason.message)")
        giveUp(reason)
        onRefused(reason)
    }

    /// Stops waiting for the next stage (a refusal for good, or a drain past its time).
    func giveUp(_ reason: RunnelError) {
        guard refusal == nil else { return }
        refusal = reason
        wakeSpace()
        wakeDrainWaiters()
    }

    /// Closes a link whose acks are overdue, so its messages are resent on a new one.
    private func watch(_ link: LineConnection) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            if window.hasOverdue(now: .now, timeout: ackTimeout) {
                logger.warning("no ack from \(peerName) for \(ackTimeout); reconnecting to resend")
                closedForOverdueAcks = true
                link.close()
                return
            }
        }
    }

    private func connected(writer: LineWriter, connection: LineConnection, peer: String) async {
        self.writer = writer
        self.connection = connection
        peerName = peer
        if reconnects > 0 {
            logger.info("connected to \(peer) at \(endpoint); \(window.count) unacked to resend")
        }
        connected = true
        reconnects += 1
        pump()
    }

    private func disconnected() async {
        writer = nil
        connection = nil
        connected = false
        let wasIsolating = window.isIsolating
        // Closed here for overdue acks: the peer is slow or waits on its own next stage, it did
        // not crash, and its messages are not suspected of making it.
        let givenUp = window.connectionLost(counting: !closedForOverdueAcks)
        closedForOverdueAcks = false
        forget(givenUp)
        if window.isIsolating && !wasIsolating {
            logger.warning(
                "\(peerName) at \(endpoint) went away \(window.isolateAfter == 1 ? "" : "\(window.isolateAfter) times in a row ")before it acked anything; the \(window.isolated == 1 ? "message" : "\(window.isolated) messages") it had \(window.isolated == 1 ? "is" : "are") sent again one at a time, to find one it may crash on")
        }
        // Outputs of inputs whose own link broke meanwhile are not sent again: those inputs are.
        var abandonedBytes = 0
        let abandoned = window.removeUnsent { message in
            guard message.ticket.isAbandoned else { return false }
            abandonedBytes += Self.size(message)
            return true
        }
        bytes -= abandonedBytes
        let how =
            window.lossGaveUpAlone
            ? "went away \(window.maxLostAlone) times with this message the only one it had been sent, before it acked it: it crashes on it?"
            : "went away \(window.maxLostDeliveries) times in a row while it had this message, without acking anything (does it crash on it?)"
        for message in givenUp {
            let error = RunnelError(.unavailable, "\(peerName) at \(endpoint) \(how)")
            logger.error("given up on message \(message.envelope.id): \(error.message); it goes to the dead letters")
            await deadLetter(message, error, nil)
        }
        if !givenUp.isEmpty || abandoned > 0 { wakeSpace() }
    }

    private func handle(_ line: WireLine) async {
        switch line {
        case let .control(.credit(n)):
            window.grant(n)
            pump()
        case let .control(.ack(seq)):
            let wasIsolating = window.isIsolating
            let done = window.ack(upTo: seq)
            forget(done)
            guard !done.isEmpty else { return }  // an ack of nothing new (a repeat)
            lastProgress = .now
            AckBatch.completing { for message in done { message.ticket.release() } }
            wakeSpace()
            // Suspects go one (or a few) at a time, on acks rather than on credit; the rest as
            // soon as the last is acked.
            if wasIsolating { pump() }
        case let .control(.nack(nack)):
            // Offered again with `attempt` + 1 (PROTOCOL.md §7.5); a resend after a reconnect keeps it.
            switch window.nack(seq: nack.seq, retryable: nack.code.isRetryable, again: { $0.envelope.countAttempts(1) }) {
            case .resend?:
                pump()
            case let .deadLetter(message, deliveries)?:
                forget([message])
                // The record names the receiver and carries its code and message as they are.
                logger.warning("\(peerName) refused \(message.envelope.id) after \(deliveries) deliveries: \(nack.code.name): \(nack.message)")
                await deadLetter(message, RunnelError(nack.code, nack.message), peerName)
                wakeSpace()
            case nil:
                break
            }
        case let .control(.ping(id)):
            try? writer?.send(.pong(id: id))
        case .control(.health(nil)):
            try? writer?.send(.health(health()))
        case .control(.describe(nil)):
            try? writer?.send(.describe(service))
        case let .data(reply):
            onReply?(reply, reconnects)
        case let .control(.bye(bye)):
            // UNAVAILABLE is the next stage draining (a restart, a stop): the link is opened
            // again by itself, and only an outage that lasts is worth a warning (the reconnect's).
            let level: Logger.Level = bye.code == .unavailable ? .info : .warning
            if bye.code != .ok && bye.code != .cancelled {
                logger.log(level: level, "\(peerName) closed the link: \(bye.code.name): \(bye.message)")
            }
        default:
            break
        }
    }

    private func wakeSpace() {
        if hasRoom || refusal != nil {
            let waiters = spaceWaiters
            spaceWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        if window.isEmpty { wakeDrainWaiters() }
    }
}
