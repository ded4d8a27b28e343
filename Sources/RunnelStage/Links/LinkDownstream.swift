import RunnelProtocol
import RunnelTransport

/// Outputs to the next stage over a socket, with credits, cumulative acks and redelivery.
///
/// It connects (and reconnects, with exponential backoff) on its own; messages wait in the
/// ``OutboundWindow`` until the receiver grants credit, and stay there until acked. After a
/// reconnect every unacked message is sent again. A message is resent on the same connection
/// when its ack is overdue; a nacked one is retried or, past ``maxDeliveries``, dead-lettered.
actor LinkDownstream: Downstream {
    private let endpoint: Endpoint
    private let handshake: Handshake
    private let capacity: Int
    private let ackTimeout: Duration
    private let log: @Sendable (String) -> Void
    private let deadLetter: @Sendable (Outgoing, RunnelError) async -> Void

    private var window: OutboundWindow<Outgoing>
    private var writer: LineWriter?
    private var peerName = "?"
    private var pumping = false
    private var pumpAgain = false
    private var spaceWaiters: [CheckedContinuation<Void, Never>] = []
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    private var connectionTask: Task<Void, Never>?
    private(set) var connected = false
    private(set) var reconnects = 0

    init(
        endpoint: Endpoint, handshake: Handshake, capacity: Int = 1024, maxDeliveries: Int = 5,
        ackTimeout: Duration = .seconds(30), log: @escaping @Sendable (String) -> Void,
        deadLetter: @escaping @Sendable (Outgoing, RunnelError) async -> Void
    ) {
        self.endpoint = endpoint
        self.handshake = handshake
        self.capacity = capacity
        self.ackTimeout = ackTimeout
        self.log = log
        self.deadLetter = deadLetter
        window = OutboundWindow(maxDeliveries: maxDeliveries)
    }

    /// Starts connecting in the background.
    func start() {
        guard connectionTask == nil else { return }
        connectionTask = Task { await self.connectLoop() }
    }

    /// Stops reconnecting and closes the link.
    func stop() async {
        connectionTask?.cancel()
        if let writer {
            try? await writer.send(.bye(Bye()))
            await writer.finish()
        }
    }

    func send(_ messages: [Outgoing]) async {
        while window.count >= capacity {
            await withCheckedContinuation { spaceWaiters.append($0) }
        }
        for message in messages { window.enqueue(message) }
        await pump()
    }

    func drain(timeout: Duration) async -> Int {
        if window.isEmpty { return 0 }
        let deadline = ContinuousClock.now + timeout
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.wakeDrainWaiters()
        }
        while !window.isEmpty && ContinuousClock.now < deadline {
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

    /// Sends what the credit allows. One pump runs at a time, so sequence numbers go out in order.
    private func pump() async {
        if pumping {
            pumpAgain = true
            return
        }
        pumping = true
        defer { pumping = false }
        repeat {
            pumpAgain = false
            guard let writer else { return }
            let batch = window.takeSendable(now: .now, limit: 256)
            if batch.isEmpty { continue }
            do {
                try await writer.send(batch.map { ($0.seq, $0.item.envelope) })
            } catch {
                // The reader side sees the broken connection and calls `disconnected`.
                return
            }
            pumpAgain = true
        } while pumpAgain
    }

    // MARK: Connection

    private nonisolated func connectLoop() async {
        var backoff = Duration.milliseconds(50)
        var announcedOutage = false
        while !Task.isCancelled {
            let connection: LineConnection
            do {
                connection = try await LineConnection.connect(to: endpoint)
            } catch {
                if !announcedOutage {
                    log("runnel \(handshake.local.stage): \(error.code.name): \(error.message); retrying with backoff")
                    announcedOutage = true
                }
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(5))
                continue
            }
            do {
                try await connection.run { reader, writer in
                    let peer = try await self.handshake.connect(&reader, writer)
                    await self.connected(writer: writer, peer: peer.stage)
                    while let line = try await reader.next() {
                        if case .control(.bye) = line {
                            await self.handle(line)
                            return
                        }
                        await self.handle(line)
                    }
                }
                backoff = .milliseconds(50)
            } catch let error as RunnelError {
                log("runnel \(handshake.local.stage): link to \(endpoint) \(error.code.name): \(error.message)")
                if error.code == .unauthenticated || error.code == .failedPrecondition {
                    // A refusal will not change by itself: keep trying, but slowly.
                    backoff = .seconds(5)
                }
            } catch {
                log("runnel \(handshake.local.stage): link to \(endpoint) failed: \(error)")
            }
            await disconnected()
            announcedOutage = false
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, .seconds(5))
        }
    }

    private func connected(writer: LineWriter, peer: String) async {
        self.writer = writer
        peerName = peer
        if reconnects > 0 || !window.isEmpty {
            log("runnel \(handshake.local.stage): connected to \(peer) at \(endpoint); \(window.count) unacked to resend")
        }
        connected = true
        reconnects += 1
        await pump()
    }

    private func disconnected() {
        writer = nil
        connected = false
        window.connectionLost()
    }

    private func handle(_ line: WireLine) async {
        switch line {
        case let .control(.credit(n)):
            window.grant(n)
            await pump()
        case let .control(.ack(seq)):
            let done = window.ack(upTo: seq)
            for message in done { message.ticket.release() }
            if !done.isEmpty { wakeSpace() }
            await resendOverdue()
        case let .control(.nack(nack)):
            switch window.nack(seq: nack.seq, retryable: nack.code.isRetryable) {
            case .resend?:
                await pump()
            case let .deadLetter(message, deliveries)?:
                let error = RunnelError(nack.code, "\(peerName) refused it after \(deliveries) deliveries: \(nack.message)")
                await deadLetter(message, error)
                wakeSpace()
            case nil:
                break
            }
        case let .control(.ping(id)):
            try? await writer?.send(.pong(id: id))
        case let .control(.bye(bye)):
            if bye.code != .ok { log("runnel \(handshake.local.stage): \(peerName) closed the link: \(bye.code.name): \(bye.message)") }
        default:
            break
        }
    }

    private func resendOverdue() async {
        let overdue = window.overdue(now: .now, timeout: ackTimeout)
        guard !overdue.isEmpty, let writer else { return }
        log("runnel \(handshake.local.stage): \(overdue.count) acks overdue from \(peerName); resending")
        try? await writer.send(overdue.map { ($0.seq, $0.item.envelope) })
    }

    private func wakeSpace() {
        if window.count < capacity {
            let waiters = spaceWaiters
            spaceWaiters = []
            for waiter in waiters { waiter.resume() }
        }
        if window.isEmpty { wakeDrainWaiters() }
    }
}
