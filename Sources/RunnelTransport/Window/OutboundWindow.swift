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
    // Inlinable, as the rest of the window: a stage's output link holds one per message, and
    // generic code called across the module boundary unspecialised costs a metadata lookup and
    // a witness call per element touched (issue 14).
    @usableFromInline struct Entry {
        @usableFromInline var item: Item
        @usableFromInline var sentAt: ClockReading?
        @usableFromInline var deliveries: Int
        /// Connections that died while this message was in flight.
        @usableFromInline var lost = 0
        /// Connections that died while this message was the only one in flight.
        @usableFromInline var lostAlone = 0
        /// It was in flight when a connection died without an ack: it goes alone until acked.
        @usableFromInline var suspect = false

        @inlinable init(item: Item, sentAt: ClockReading?, deliveries: Int) {
            self.item = item
            self.sentAt = sentAt
            self.deliveries = deliveries
        }
    }

    /// What to do with a message the receiver refused.
    public enum NackAction {
        /// Send it again (it was given a new sequence number and queued).
        case resend(seq: UInt64)
        /// Give up: dead-letter it with this status.
        case deadLetter(Item, deliveries: Int)
    }

    // Slot i holds the message numbered `firstSeq + i` (nil once acked or nacked). Messages are
    // sent in order, so the sent ones are a prefix: `cursor` is where the unsent ones begin.
    @usableFromInline var slots: [Entry?] = []
    @usableFromInline var head = 0
    @usableFromInline var cursor = 0
    @usableFromInline var firstSeq: UInt64 = 1
    /// Whether the receiver acked anything on this connection: one that did was making
    /// progress, so its loss is not held against the messages in flight.
    @usableFromInline var ackedOnConnection = false
    /// How many kept messages are suspects, sent one at a time: the ones in flight when a
    /// connection died without an ack. Sent alone, the one a receiver crashes on is known.
    @usableFromInline var isolating = 0
    /// While isolating, how many may be in flight: 1, doubled after each ack while no connection
    /// has died since the isolation began (a receiver killed at random then costs a few round
    /// trips, not one a suspect); 1 for good once one has (the poison is among them).
    @usableFromInline var isolationAllowance = 1
    @usableFromInline var isolationCrashed = false
    /// Messages kept (sent and unacked, or not sent yet).
    @inlinable public var count: Int { stored }
    /// Messages the receiver still allows in flight.
    @inlinable public var credit: Int { allowed }
    @usableFromInline var stored = 0
    @usableFromInline var allowed = 0
    /// How many times a message may be refused (retryable nacks) before it is given up on.
    public let maxDeliveries: Int
    /// How many connections may die while a message is in flight before it is taken for a
    /// poison message (one that makes the receiver crash) and given up on. Far more than
    /// ``maxDeliveries``: a receiver killed for other reasons must not cost a message.
    public let maxLostDeliveries: Int
    /// How many of the oldest messages in flight a lost connection counts against.
    ///
    /// A receiver works on what it holds in order, so one that crashes on a message crashes
    /// with it among the oldest it was sent; after each reconnect the message is sent again
    /// first, in the same order, and stays among them. A message further back was only queued
    /// there: counting the loss against it too made a receiver that is killed often (for
    /// reasons of its own) dead-letter messages that had merely waited behind a full window.
    public let suspects: Int
    /// How many connections may die while a message is the only one in flight before it is
    /// given up on as a poison message.
    public let maxLostAlone: Int
    /// How many connections in a row must die without an ack while a message is in flight
    /// before it is a suspect, sent alone: one such loss is most often a receiver restarted (a
    /// deploy, the OOM killer, a network blip), and its batch is simply sent again.
    public let isolateAfter: Int

    @inlinable
    public init(maxDeliveries: Int = 5, maxLostDeliveries: Int? = nil, suspects: Int = 64, maxLostAlone: Int = 3, isolateAfter: Int = 2) {
        self.maxDeliveries = maxDeliveries
        self.maxLostDeliveries = maxLostDeliveries ?? maxDeliveries * 10
        self.suspects = max(1, suspects)
        self.maxLostAlone = max(1, maxLostAlone)
        self.isolateAfter = max(1, isolateAfter)
    }

    /// Whether messages are being sent one at a time, to find the one a receiver crashes on.
    @inlinable
    public var isIsolating: Bool { isolating > 0 }
    /// Messages still to be sent one at a time (see ``connectionLost()``).
    @inlinable
    public var isolated: Int { isolating }
    /// Whether what the last ``connectionLost()`` gave up on was lost alone (``maxLostAlone``
    /// times), rather than among others (``maxLostDeliveries`` times).
    @inlinable public var lossGaveUpAlone: Bool { gaveUpAlone }
    @usableFromInline var gaveUpAlone = false

    @inlinable
    public var isEmpty: Bool { count == 0 }

    /// Messages sent and not acked yet (at most the window: counted when asked).
    @inlinable
    public var inFlight: Int { slots[head..<max(cursor, head)].reduce(0) { $0 + ($1 == nil ? 0 : 1) } }
    /// The number the next queued message gets.
    @inlinable
    public var nextSeq: UInt64 { firstSeq + UInt64(slots.count) }

    /// Queues a message and returns its sequence number.
    @discardableResult
    @inlinable
    public mutating func enqueue(_ item: Item) -> UInt64 {
        enqueue(Entry(item: item, sentAt: nil, deliveries: 0))
    }

    @inlinable mutating func enqueue(_ entry: Entry) -> UInt64 {
        let seq = nextSeq
        slots.append(entry)
        stored += 1
        return seq
    }

    /// The receiver allows `n` more messages in flight.
    @inlinable
    public mutating func grant(_ n: Int) {
        // Saturating: a peer may grant up to Int.max more than once (it trapped).
        let (sum, overflow) = allowed.addingReportingOverflow(max(n, 0))
        allowed = overflow ? .max : sum
    }

    /// Unsent messages that the credit allows, in order, marked as sent at `now`.
    @inlinable
    public mutating func takeSendable(now: ContinuousClock.Instant, limit: Int = .max) -> [(seq: UInt64, item: Item)] {
        var out: [(UInt64, Item)] = []
        let now = ClockReading(now)
        cursor = max(cursor, head)
        // Suspects go one at a time: the next only once the one before is acked.
        let limit = isolating > 0 ? min(limit, max(0, isolationAllowance - slots[head..<cursor].count { $0 != nil })) : limit
        while cursor < slots.count, credit > 0, out.count < limit {
            defer { cursor += 1 }
            guard slots[cursor] != nil else { continue }
            slots[cursor]!.sentAt = now
            slots[cursor]!.deliveries += 1
            allowed -= 1
            out.append((firstSeq + UInt64(cursor), slots[cursor]!.item))
        }
        return out
    }

    /// A cumulative ack: every message up to and including `seq` is done.
    /// - Returns: the messages acknowledged, in order.
    @inlinable
    public mutating func ack(upTo seq: UInt64) -> [Item] {
        var done: [Item] = []
        // Room for all it can cover at once, not grown by doubling: a relay's acks cover a few
        // dozen messages each (issue 14).
        let start = firstSeq + UInt64(head)
        if seq >= start, cursor > head {
            done.reserveCapacity(Int(min(seq - start, UInt64(cursor - head - 1))) + 1)
        }
        while head < slots.count, firstSeq + UInt64(head) <= seq, head < cursor {
            if let entry = slots[head] {
                done.append(entry.item)
                if entry.suspect { isolating -= 1 }
                slots[head] = nil
                stored -= 1
            }
            head += 1
        }
        if !done.isEmpty {
            ackedOnConnection = true
            if isolating > 0 && !isolationCrashed { isolationAllowance = min(isolationAllowance * 2, suspects) }
        }
        if head > 1024 && head * 2 > slots.count {
            slots.removeFirst(head)
            firstSeq += UInt64(head)
            cursor -= head
            head = 0
        }
        return done
    }

    /// The receiver refused message `seq`. A retryable refusal is queued again under a new
    /// sequence number until it has been delivered ``maxDeliveries`` times.
    /// - Parameter again: changes a message that is offered again, before it is queued: a
    ///   sender counts `attempt` up there (PROTOCOL.md §7.5).
    @inlinable
    public mutating func nack(seq: UInt64, retryable: Bool, again offer: (inout Item) -> Void = { _ in }) -> NackAction? {
        // Any seq a peer sends is taken (up to 2^64 - 1): one that names nothing kept is ignored.
        guard seq >= firstSeq, seq - firstSeq < UInt64(slots.count), case let index = Int(seq - firstSeq), index >= head,
            let entry = slots[index]
        else { return nil }
        slots[index] = nil
        stored -= 1
        if entry.suspect { isolating -= 1 }
        if retryable && entry.deliveries < maxDeliveries {
            var again = entry
            again.sentAt = nil
            again.suspect = false  // an answer: the receiver lived through this one
            offer(&again.item)
            return .resend(seq: enqueue(again))
        }
        return .deadLetter(entry.item, deliveries: entry.deliveries)
    }

    /// The connection was lost: every unacked message will be sent again, first and in order,
    /// once a new connection grants credit. Each connection numbers its messages from 1
    /// (`PROTOCOL.md` §7.4), so the kept messages are renumbered 1, 2, 3….
    ///
    /// A receiver that crashes on a message (a poison message) dies before it acks anything,
    /// since acks are cumulative and the message is sent again first after each reconnect. So
    /// ``isolateAfter`` losses in a row on connections that acked nothing make the oldest
    /// messages in flight (up to ``suspects``) go one at a time on the next connections (two once one is acked, then four…,
    /// until a connection dies again: then one at a time for good): each acked is cleared, and
    /// one whose connection dies with it the only message sent on it is the poison, given up on
    /// after ``maxLostAlone`` such losses. A receiver killed for other reasons acks in between, so the
    /// messages waiting behind it are never taken for poison. ``maxLostDeliveries`` losses in a
    /// row without an ack give up on the suspects too, whatever else happens.
    ///
    /// - Parameter counting: false when this side closed the link itself because acks were
    ///   overdue: a receiver that is slow or waits on its own next stage (a database away for
    ///   minutes) did not crash, and its messages are not held to blame.
    /// - Returns: the messages given up on, to dead-letter.
    @discardableResult
    @inlinable
    public mutating func connectionLost(counting: Bool = true) -> [Item] {
        allowed = 0
        let progressed = ackedOnConnection || !counting
        ackedOnConnection = false
        let wasIsolating = isolating > 0
        let sentAlone = wasIsolating && slots[head..<max(cursor, head)].count { $0?.sentAt != nil } == 1
        var kept: [Entry?] = []
        var givenUp: [Item] = []
        var inFlight = 0
        var suspected = 0
        for slot in slots[head...] {
            guard var entry = slot else { continue }
            if entry.sentAt != nil {
                inFlight += 1
            }
            if wasIsolating {
                // Counted when it was the only one in flight and the connection acked nothing:
                // it was sent first, alone, and the receiver died with it (a kill at random
                // seldom falls there three times running).
                if entry.sentAt != nil && sentAlone && !progressed {
                    entry.lostAlone += 1
                    if entry.lostAlone >= maxLostAlone {
                        givenUp.append(entry.item)
                        if entry.suspect { isolating -= 1 }
                        continue
                    }
                }
            } else if progressed {
                entry.lost = 0
            } else if entry.sentAt != nil && inFlight <= suspects {
                entry.lost += 1
                if entry.lost >= maxLostDeliveries {
                    givenUp.append(entry.item)
                    continue
                }
                if entry.lost >= isolateAfter {
                    entry.suspect = true
                    suspected += 1
                }
            }
            entry.sentAt = nil
            kept.append(entry)
        }
        if wasIsolating {
            if counting { isolationCrashed = true }
        } else if !progressed {
            isolating = suspected
            isolationCrashed = false
        }
        isolationAllowance = 1
        gaveUpAlone = wasIsolating
        slots = kept
        stored = kept.count
        head = 0
        cursor = 0
        firstSeq = 1
        return givenUp
    }

    /// Forgets every message not sent yet (a source that stops: it will read them again).
    /// - Returns: how many were dropped.
    @discardableResult
    @inlinable
    public mutating func dropUnsent() -> [Item] {
        cursor = max(cursor, head)
        let dropped = slots[cursor...].compactMap { $0 }
        slots.removeSubrange(cursor...)
        stored -= dropped.count
        isolating -= dropped.count { $0.suspect }
        return dropped.map(\.item)
    }

    /// Forgets the messages not sent yet that `isUnwanted` picks (ones whose input will come
    /// again anyway); after ``connectionLost()`` that is every kept message.
    ///
    /// The ones kept close up: no number was sent for them yet, and a connection numbers its
    /// messages without gaps (PROTOCOL.md §7.4). A receiver takes a gap for lines it could not
    /// read and counts them against the credit, so holes left here made a reconnected sender
    /// overrun its credit by as many messages as were removed.
    /// - Returns: how many were removed.
    @discardableResult
    @inlinable
    public mutating func removeUnsent(where isUnwanted: (Item) -> Bool) -> Int {
        cursor = max(cursor, head)
        var removed = 0
        slots[cursor...].removeAll { entry in
            guard let entry else { return true }
            guard isUnwanted(entry.item) else { return false }
            removed += 1
            if entry.suspect { isolating -= 1 }
            return true
        }
        stored -= removed
        return removed
    }

    /// Whether a sent message has waited longer than `timeout` for its ack (the link is then
    /// presumed stuck: close it, and the messages are resent on the next connection).
    @inlinable
    public func hasOverdue(now: ContinuousClock.Instant, timeout: Duration) -> Bool {
        let now = ClockReading(now)
        for index in head..<min(cursor, slots.count) {
            if let sentAt = slots[index]?.sentAt, sentAt.duration(to: now) >= timeout { return true }
        }
        return false
    }
}
