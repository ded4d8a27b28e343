import RunnelProtocol
import RunnelTransport
import Synchronization

/// The inputs a downstream ack completes together, whose upstream links are answered once it
/// has released them all, on the task that handled it: no task made and woken per ack to send
/// the upstream's (issue 14).
///
/// ```swift
/// AckBatch.completing { for message in done { message.ticket.release() } }
/// ```
final class AckBatch: Sendable {
    @TaskLocal static var current: AckBatch?

    private let links = Mutex<[InboundLink]>([])

    func add(_ link: InboundLink) {
        links.withLock { $0.append(link) }
    }

    /// Runs `body`, in which inputs are completed, then sends each link's ack.
    static func completing(_ body: () -> Void) {
        let batch = AckBatch()
        $current.withValue(batch) { body() }
        for link in batch.links.withLock({ $0 }) { link.flush() }
    }
}

/// The receiving end of one upstream connection: which of its messages are done, and the
/// acks and credit that go back. Acks are coalesced: completions that arrive together (one
/// downstream ack releases many) are answered with one `ack` and one `credit` line.
final class InboundLink: Sendable {
    private struct State {
        var window: InboundWindow
        var flushScheduled = false
        var granting = true
        /// Waiting in ``settled()`` for the link to have nothing outstanding.
        var settleWaiters: [CheckedContinuation<Void, Never>] = []

        /// Takes the settle waiters if nothing is outstanding (or the link broke).
        mutating func takeSettled(broken: Bool) -> [CheckedContinuation<Void, Never>] {
            guard broken || window.outstanding == 0 else { return [] }
            defer { settleWaiters = [] }
            return settleWaiters
        }
    }

    private let state: Mutex<State>
    private let writer: LineWriter
    private let broken = Atomic<Bool>(false)
    /// When the peer's last line came (for the idle timeout, PROTOCOL.md §7.6).
    private let heard = Mutex(ContinuousClock.now)
    let peer: String
    /// Raised once the peer's side of the link has ended: its stream closed or broke.
    let peerEnded = DrainSignal()

    /// The peer sent something: it is alive.
    func heardFromPeer() {
        heard.withLock { $0 = .now }
    }

    var lastHeard: ContinuousClock.Instant { heard.withLock { $0 } }

    /// Whether the connection broke with messages unacked. The sender sends those again (or, if
    /// it died, its upstream sends their inputs again), so work still pending for them here is
    /// wasted: it is dropped instead of being done twice.
    var isAbandoned: Bool { broken.load(ordering: .relaxed) }

    func abandon() {
        broken.store(true, ordering: .relaxed)
        for waiter in state.withLock({ $0.takeSettled(broken: true) }) { waiter.resume() }
    }

    /// Returns once every message received is acked, or the link is abandoned.
    func settled() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                if broken.load(ordering: .relaxed) || s.window.outstanding == 0 { return true }
                s.settleWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    init(writer: LineWriter, window: Int, windowBytes: Int = InboundWindow.defaultMaxBytes, peer: String) {
        self.writer = writer
        state = Mutex(State(window: InboundWindow(window: window, maxBytes: windowBytes)))
        self.peer = peer
    }

    /// Grants the first credit.
    func open() throws(RunnelError) {
        try writer.send(.credit(state.withLock { $0.window.initialCredit }))
    }

    /// Records arrivals; returns which of them are new (to handle). Repeats of acked messages
    /// are acked again; repeats of ones in progress are ignored.
    /// - Throws: ``RunnelError`` `RESOURCE_EXHAUSTED` when the sender went beyond the credit it
    ///   was granted; the link must be closed with `bye` and that code.
    /// Each arrival's `bytes` (its body's size; 0 for a line that could not be read) feeds the
    /// credit's bound in bytes.
    func receive(_ arrivals: [(seq: UInt64, bytes: Int)]) throws(RunnelError) -> [Bool] {
        let (fresh, reack, overrun) = state.withLock { s -> ([Bool], UInt64?, Bool) in
            var reack: UInt64?
            var overrun = false
            let fresh = arrivals.map { arrival -> Bool in
                switch s.window.receive(seq: arrival.seq, bytes: arrival.bytes) {
                case .new: return true
                case .alreadyAcked:
                    reack = s.window.lastAcked
                    return false
                case .inProgress: return false
                case .overrun:
                    overrun = true
                    return false
                }
            }
            return (fresh, reack, overrun)
        }
        if overrun {
            let error = RunnelError(
                .resourceExhausted,
                "\(peer) sent more messages than the \(state.withLock { $0.window.window })-message credit it was granted; closing the link")
            throw error
        }
        if let reack { try? writer.send(.ack(seq: reack)) }
        return fresh
    }

    /// The message `seq` is done: its outputs are safe downstream. The ack goes once the
    /// completions made with it are all in: at the end of the ``AckBatch`` open on this task (a
    /// downstream ack releasing many inputs), else in a task of its own.
    func complete(seq: UInt64) {
        let schedule = state.withLock { s -> Bool in
            s.window.complete(seq: seq)
            defer { s.flushScheduled = true }
            return !s.flushScheduled
        }
        guard schedule else { return }
        if let batch = AckBatch.current {
            batch.add(self)
        } else {
            Task { self.flush() }
        }
    }

    /// Stop granting credit (draining): the sender then stops after what it already has.
    func stopGranting() {
        state.withLock { $0.granting = false }
    }

    var outstanding: Int { state.withLock { $0.window.outstanding } }

    /// The credit the sender has not used yet, and the messages received and not acked.
    var flow: (credit: Int, inFlight: Int) { state.withLock { ($0.window.openCredit, $0.window.outstanding) } }

    /// Sends the pending ack (and the credit it frees) now.
    func flush() {
        let (lines, settled) = state.withLock { s -> ([WireLine], [CheckedContinuation<Void, Never>]) in
            s.flushScheduled = false
            guard let (ack, credit) = s.window.takeAck(granting: s.granting) else { return ([], []) }
            let lines: [WireLine] =
                s.granting && credit > 0 ? [.control(.ack(seq: ack)), .control(.credit(credit))] : [.control(.ack(seq: ack))]
            return (lines, s.takeSettled(broken: false))
        }
        if !lines.isEmpty { try? writer.send(lines) }
        for waiter in settled { waiter.resume() }
    }

    /// Ends this side of the link, `last` (a `bye`) written with the end
    /// (``LineWriter/finish(saying:)``), and waits until it is on the socket.
    func finishWriting(saying last: ControlMessage? = nil) async {
        await writer.finishAndFlush(saying: last)
    }

    func reply(_ control: ControlMessage) {
        try? writer.send(control)
    }
}
