/// The receiver's side of a link, as a pure state machine: which messages arrived, which are
/// done, the cumulative ack to send, and how much credit to grant back.
///
/// Messages arrive in increasing `seq` order on a connection (resends after an ack timeout
/// repeat a seq; they are recognised and not handled twice). A message is done when all its
/// outputs were acked downstream or it was dead-lettered; the ack covers the longest done
/// prefix, so a slow message holds back the acks (not the work) of later ones.
///
/// Credit is counted in messages, bounded in bytes as well: once messages have arrived, the
/// receiver lets a sender have only as many in flight as fit `maxBytes` at their average size
/// (at least one, at most `window`). 256 small messages are a few hundred KB; 256 fetched pages
/// of 200 KB would be 50 MB held, and as much again in the sender's window, so big messages get
/// fewer in flight.
///
/// ```swift
/// var window = InboundWindow(window: 256, maxBytes: 16 << 20)
/// let first = window.initialCredit          // grant this after the handshake
/// if case .new = window.receive(seq: 1, bytes: 230) { process() }
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
    /// The most bytes of messages in flight that credit is granted for, at their average size.
    public let maxBytes: Int
    /// The average size of the messages received, weighted towards the recent ones (0 before
    /// the first).
    public private(set) var averageBytes = 0
    private var pending: [(seq: UInt64, done: Bool)] = []
    private var head = 0
    public private(set) var lastAcked: UInt64?
    private var highestSeen: UInt64?
    /// Credit granted so far, over the link's life, and new messages received against it.
    private var granted: Int
    private var received = 0

    public init(window: Int = 256, maxBytes: Int = InboundWindow.defaultMaxBytes) {
        self.window = window
        self.maxBytes = max(maxBytes, 1)
        granted = window
    }

    /// 16 MiB.
    public static let defaultMaxBytes = 16 << 20

    /// How many messages may be in flight now: `window`, or fewer when that many messages of
    /// the average size would pass `maxBytes` (never fewer than one).
    public var allowedInFlight: Int {
        guard averageBytes > 0 else { return window }
        return min(window, max(1, maxBytes / averageBytes))
    }

    /// Credit to grant when the link opens.
    public var initialCredit: Int { window }

    /// Messages received and not yet acked.
    public var outstanding: Int { pending.count - head }

    /// Credit granted that the sender has not used yet.
    public var openCredit: Int { max(granted - received, 0) }

    /// - Parameter bytes: the message's size, for the average that bounds the credit in bytes.
    public mutating func receive(seq: UInt64, bytes: Int = 0) -> Arrival {
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
        if bytes > 0 {
            // An average over about the last eight messages; the first sets it.
            averageBytes = averageBytes == 0 ? bytes : averageBytes + (bytes - averageBytes) / 8
        }
        return .new
    }


    /// Marks a message done (handled and its outputs safe, or dead-lettered); one already acked,
    /// or never received, is ignored.
    public mutating func complete(seq: UInt64) {
        // Held without gaps from the head on (`receive` records the numbers skipped too): the
        // message's place is its distance from the head's. Searching for it cost a batch of n
        // completions n²/2 compares before the ack that takes them (issue 14).
        guard head < pending.count, seq >= pending[head].seq else { return }
        let distance = seq - pending[head].seq
        guard distance < UInt64(pending.count - head) else { return }
        pending[head + Int(distance)].done = true
    }

    /// The cumulative ack to send now and the credit to grant back with it, if anything
    /// became ackable since the last call. The credit tops what is in flight up to
    /// ``allowedInFlight``: the messages acked, fewer while the messages are large, more when they
    /// became smaller again; it is 0 until that is at least a quarter of ``allowedInFlight`` or
    /// nothing is in flight.
    /// - Parameter granting: whether the credit is sent (not while draining); only credit
    ///   sent counts against what the sender may send.
    public mutating func takeAck(granting: Bool = true) -> (ack: UInt64, credit: Int)? {
        var acked: UInt64?
        while head < pending.count, pending[head].done {
            acked = pending[head].seq
            head += 1
        }
        if head > 1024 && head * 2 > pending.count {
            pending.removeFirst(head)
            head = 0
        }
        guard let acked else { return nil }
        lastAcked = acked
        let topUp = max(0, allowedInFlight - outstanding - openCredit)
        // Credit goes back in chunks of at least a quarter of what may be in flight, or all of
        // it once nothing is: a trickle of small grants would have the sender write a few
        // messages at a time, and every stage after it work in batches as small (the silly window
        // TCP avoids). What is held back now tops up a later grant.
        let credit = topUp >= max(1, allowedInFlight / 4) || outstanding == 0 ? topUp : 0
        if granting { granted += credit }
        return (acked, credit)
    }
}
