/// The receiver's side of a link, as a pure state machine: which messages arrived, which are
/// done, the cumulative ack to send, and how much credit to grant back.
///
/// Messages arrive in increasing `seq` order on a connection (resends after an ack timeout
/// repeat a seq; they are recognised and not handled twice). A message is done when all its
/// outputs were acked downstream or it was dead-lettered; the ack covers the longest done
/// prefix, so a slow message holds back the acks (not the work) of later ones.
///
/// ```swift
/// var window = InboundWindow(window: 256)
/// let first = window.initialCredit          // grant this after the handshake
/// if case .new = window.receive(seq: 1) { process() }
/// window.complete(seq: 1)
/// if let (ack, credit) = window.takeAck() { send(.ack(seq: ack)); send(.credit(credit)) }
/// ```
public struct InboundWindow {
    /// What to do with an arriving message.
    public enum Arrival: Equatable, Sendable {
        /// Handle it.
        case new
        /// Seen before and already acked: ack again, do not handle.
        case alreadyAcked
        /// Seen before and still being handled: ignore.
        case inProgress
        /// New, but beyond the credit granted: the sender ignores credit. Not recorded; the
        /// receiver ends the link with `bye` `RESOURCE_EXHAUSTED` (PROTOCOL.md §7.3).
        case overrun
    }

    /// The most messages this receiver lets a sender have in flight.
    public let window: Int
    private var pending: [(seq: UInt64, done: Bool)] = []
    private var head = 0
    public private(set) var lastAcked: UInt64?
    private var highestSeen: UInt64?
    /// Credit granted so far, over the link's life, and new messages received against it.
    private var granted: Int
    private var received = 0

    public init(window: Int = 256) {
        self.window = window
        granted = window
    }

    /// Credit to grant when the link opens.
    public var initialCredit: Int { window }

    /// Messages received and not yet acked.
    public var outstanding: Int { pending.count - head }

    /// Credit granted that the sender has not used yet.
    public var openCredit: Int { max(granted - received, 0) }

    public mutating func receive(seq: UInt64) -> Arrival {
        // 0 names no message (a link numbers from 1): the caller refuses such a line first.
        guard seq > 0 else { return .inProgress }
        if let highestSeen, seq <= highestSeen {
            if let lastAcked, seq <= lastAcked { return .alreadyAcked }
            return .inProgress
        }
        // A sender numbers without gaps (PROTOCOL.md §7.4), so numbers skipped were lines this
        // side could not read: each counts against the credit, and is done (dead-lettered) at
        // once, so the next ack covers it and the credit comes back.
        let next = (highestSeen ?? 0) + 1
        let skipped = seq - next
        guard skipped < UInt64(granted - received) else { return .overrun }
        for missing in next..<seq { pending.append((missing, true)) }
        received += Int(skipped) + 1
        highestSeen = seq
        pending.append((seq, false))
        return .new
    }


    /// Marks a message done (handled and its outputs safe, or dead-lettered).
    public mutating func complete(seq: UInt64) {
        // Usually near the front: search from the head.
        for i in head..<pending.count where pending[i].seq == seq {
            pending[i].done = true
            return
        }
    }

    /// The cumulative ack to send now and the credit to grant back with it, if anything
    /// became ackable since the last call.
    /// - Parameter granting: whether the credit is sent (not while draining); only credit
    ///   sent counts against what the sender may send.
    public mutating func takeAck(granting: Bool = true) -> (ack: UInt64, credit: Int)? {
        var acked: UInt64?
        var released = 0
        while head < pending.count, pending[head].done {
            acked = pending[head].seq
            head += 1
            released += 1
        }
        if head > 1024 && head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        guard let acked else { return nil }
        lastAcked = acked
        if granting { granted += released }
        return (acked, released)
    }
}
