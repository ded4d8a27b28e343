/// The sender's side of a link, as a pure state machine: sequence numbers, credit, the messages
/// kept until they are acked, and what to resend after a reconnect or a nack.
///
/// It does no I/O and reads no clock: callers pass `now`, and act on what methods return.
///
/// ```swift
/// var window = OutboundWindow<Envelope>()
/// window.enqueue(message)
/// window.grant(256)
/// for (seq, message) in window.takeSendable(now: .now) { send(message, seq) }
/// let done = window.ack(upTo: 17)      // the messages now safe downstream
/// ```
public struct OutboundWindow<Item> {
    struct Entry {
        var item: Item
        var sentAt: ContinuousClock.Instant?
        var deliveries: Int
    }

    /// What to do with a message the receiver refused.
    public enum NackAction {
        /// Send it again (it was given a new sequence number and queued).
        case resend(seq: UInt64)
        /// Give up: dead-letter it with this status.
        case deadLetter(Item, deliveries: Int)
    }

    /// Unacked messages by sequence number, in order: sent ones first, then unsent ones.
    private var entries: [UInt64: Entry] = [:]
    private var order: [UInt64] = []  // ascending seqs of `entries`
    private var head = 0  // order[head...] are live (acked ones are dropped from the front)
    public private(set) var nextSeq: UInt64 = 1
    /// Messages the receiver still allows in flight.
    public private(set) var credit = 0
    /// How many times a message may be delivered before a retryable nack dead-letters it.
    public let maxDeliveries: Int

    public init(maxDeliveries: Int = 5) {
        self.maxDeliveries = maxDeliveries
    }

    /// Messages kept (sent and unacked, or not sent yet).
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }
    /// Sent and not yet acked.
    public var inFlight: Int { entries.values.lazy.filter { $0.sentAt != nil }.count }

    /// Queues a message and returns its sequence number.
    @discardableResult
    public mutating func enqueue(_ item: Item) -> UInt64 {
        let seq = nextSeq
        nextSeq += 1
        entries[seq] = Entry(item: item, sentAt: nil, deliveries: 0)
        order.append(seq)
        return seq
    }

    /// The receiver allows `n` more messages in flight.
    public mutating func grant(_ n: Int) {
        credit += max(n, 0)
    }

    /// Unsent messages that the credit allows, in order, marked as sent at `now`.
    public mutating func takeSendable(now: ContinuousClock.Instant, limit: Int = .max) -> [(seq: UInt64, item: Item)] {
        var out: [(UInt64, Item)] = []
        var i = head
        while i < order.count, credit > 0, out.count < limit {
            let seq = order[i]
            i += 1
            guard var entry = entries[seq], entry.sentAt == nil else { continue }
            entry.sentAt = now
            entry.deliveries += 1
            entries[seq] = entry
            credit -= 1
            out.append((seq, entry.item))
        }
        return out
    }

    /// A cumulative ack: every message up to and including `seq` is done.
    /// - Returns: the messages acknowledged, in order.
    public mutating func ack(upTo seq: UInt64) -> [Item] {
        var done: [Item] = []
        while head < order.count, order[head] <= seq {
            if let entry = entries.removeValue(forKey: order[head]) { done.append(entry.item) }
            head += 1
        }
        compact()
        return done
    }

    /// The receiver refused message `seq`. A retryable refusal is queued again under a new
    /// sequence number until it has been delivered ``maxDeliveries`` times.
    public mutating func nack(seq: UInt64, retryable: Bool) -> NackAction? {
        guard let entry = entries.removeValue(forKey: seq) else { return nil }
        if retryable && entry.deliveries < maxDeliveries {
            let newSeq = nextSeq
            nextSeq += 1
            entries[newSeq] = Entry(item: entry.item, sentAt: nil, deliveries: entry.deliveries)
            order.append(newSeq)
            return .resend(seq: newSeq)
        }
        return .deadLetter(entry.item, deliveries: entry.deliveries)
    }

    /// The connection was lost: every unacked message will be sent again, first and in order,
    /// once a new connection grants credit. Each connection numbers its messages from 1
    /// (`PROTOCOL.md` §7.4), so the kept messages are renumbered 1, 2, 3….
    /// - Returns: the messages given up on: sent ``maxDeliveries`` times without an ack (a
    ///   poison message that makes the receiver crash), to dead-letter.
    @discardableResult
    public mutating func connectionLost() -> [Item] {
        credit = 0
        var renumbered: [UInt64: Entry] = [:]
        var seq: UInt64 = 0
        var givenUp: [Item] = []
        for i in head..<order.count {
            guard var entry = entries[order[i]] else { continue }
            if entry.sentAt != nil && entry.deliveries >= maxDeliveries {
                givenUp.append(entry.item)
                continue
            }
            seq += 1
            entry.sentAt = nil
            renumbered[seq] = entry
        }
        entries = renumbered
        order = seq == 0 ? [] : Array(1...seq)
        head = 0
        nextSeq = seq + 1
        return givenUp
    }

    /// Whether a sent message has waited longer than `timeout` for its ack (the link is then
    /// presumed stuck: close it, and the messages are resent on the next connection).
    public func hasOverdue(now: ContinuousClock.Instant, timeout: Duration) -> Bool {
        for i in head..<order.count {
            if let sentAt = entries[order[i]]?.sentAt, sentAt.duration(to: now) >= timeout { return true }
        }
        return false
    }

    private mutating func compact() {
        if head > 1024 && head * 2 > order.count {
            order.removeFirst(head)
            head = 0
        }
    }
}
