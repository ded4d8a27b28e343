import RunnelProtocol
import RunnelTransport

/// The receiving end of one upstream connection: which of its messages are done, and the
/// acks and credit that go back. Acks are coalesced: completions that arrive together are
/// answered with one `ack` and one `credit` line.
actor InboundLink {
    private var window: InboundWindow
    private let writer: LineWriter
    private var flushScheduled = false
    private var granting = true
    let peer: String

    init(writer: LineWriter, window: Int, peer: String) {
        self.writer = writer
        self.window = InboundWindow(window: window)
        self.peer = peer
    }

    /// Grants the first credit.
    func open() throws(RunnelError) {
        try writer.send(.credit(window.initialCredit))
    }

    func receive(seq: UInt64) -> InboundWindow.Arrival {
        let arrival = window.receive(seq: seq)
        if arrival == .alreadyAcked, let acked = window.lastAcked {
            try? writer.send(.ack(seq: acked))
        }
        return arrival
    }

    /// The message `seq` is done: its outputs are safe downstream.
    nonisolated func complete(seq: UInt64) {
        Task { await self.markComplete(seq) }
    }

    private func markComplete(_ seq: UInt64) {
        window.complete(seq: seq)
        guard !flushScheduled else { return }
        flushScheduled = true
        Task { self.flush() }
    }

    /// Stop granting credit (draining): the sender then stops after what it already has.
    func stopGranting() {
        granting = false
    }

    var outstanding: Int { window.outstanding }

    /// Sends the pending ack now.
    func flushNow() {
        flush()
    }

    private func flush() {
        flushScheduled = false
        guard let (ack, credit) = window.takeAck() else { return }
        var lines: [WireLine] = [.control(.ack(seq: ack))]
        if granting { lines.append(.control(.credit(credit))) }
        try? writer.send(lines)
    }

    func reply(_ control: ControlMessage) {
        try? writer.send(control)
    }
}
