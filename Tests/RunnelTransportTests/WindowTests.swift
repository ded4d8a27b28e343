import Testing

@testable import RunnelTransport

@Suite("Outbound window (sender)")
struct OutboundWindowTests {
    @Test("never sends beyond the credit, and sends in sequence order")
    func credit() {
        var window = OutboundWindow<String>()
        for i in 0..<10 { window.enqueue("m\(i)") }
        #expect(window.takeSendable(now: .now).isEmpty)
        window.grant(3)
        let first = window.takeSendable(now: .now)
        #expect(first.map(\.seq) == [1, 2, 3])
        #expect(window.takeSendable(now: .now).isEmpty)
        window.grant(2)
        #expect(window.takeSendable(now: .now).map(\.item) == ["m3", "m4"])
    }

    @Test("a cumulative ack releases everything up to it, once")
    func cumulativeAck() {
        var window = OutboundWindow<Int>()
        for i in 1...5 { window.enqueue(i) }
        window.grant(5)
        _ = window.takeSendable(now: .now)
        #expect(window.ack(upTo: 3) == [1, 2, 3])
        #expect(window.ack(upTo: 2) == [])
        #expect(window.count == 2)
        #expect(window.ack(upTo: 5) == [4, 5])
        #expect(window.isEmpty)
    }

    @Test("after a lost connection every unacked message is resent first, renumbered from 1")
    func reconnect() {
        var window = OutboundWindow<String>()
        for i in 0..<6 { window.enqueue("m\(i)") }
        window.grant(4)
        _ = window.takeSendable(now: .now)  // m0…m3 in flight
        _ = window.ack(upTo: 2)  // m0, m1 done
        window.connectionLost()
        #expect(window.credit == 0)
        #expect(window.takeSendable(now: .now).isEmpty)
        window.grant(10)
        let resent = window.takeSendable(now: .now)
        #expect(resent.map(\.seq) == [1, 2, 3, 4])
        #expect(resent.map(\.item) == ["m2", "m3", "m4", "m5"])
        window.enqueue("m6")
        #expect(window.takeSendable(now: .now).map(\.seq) == [5])
    }

    @Test("a message offered again after a retryable nack is changed first (the sender counts attempt up); a resend after a reconnect is not")
    func nackCountsAttempts() {
        var window = OutboundWindow<Int>(maxDeliveries: 5)
        window.enqueue(1)  // the item plays the attempt
        window.grant(10)
        _ = window.takeSendable(now: .now)
        _ = window.nack(seq: 1, retryable: true) { $0 += 1 }
        #expect(window.takeSendable(now: .now).map(\.item) == [2])
        window.connectionLost()
        window.grant(10)
        #expect(window.takeSendable(now: .now).map(\.item) == [2], "a resend keeps attempt")
        _ = window.nack(seq: 1, retryable: true) { $0 += 1 }
        #expect(window.takeSendable(now: .now).map(\.item) == [3])
        _ = window.nack(seq: 2, retryable: true) { $0 += 1 }
        #expect(window.takeSendable(now: .now).map(\.item) == [4])
        guard case let .deadLetter(item, deliveries)? = window.nack(seq: 3, retryable: true, again: { $0 += 1 }) else {
            Issue.record("expected the refusal on the fifth delivery to be final")
            return
        }
        #expect(item == 4 && deliveries == 5, "attempt 4 (one delivery was a resend), 5 deliveries")
    }

    @Test("an ack or nack of a seq never sent, up to 2^64 - 1, changes nothing (a nack of one past Int.max trapped)")
    func hugeSeq() {
        var window = OutboundWindow<String>()
        window.enqueue("a")
        window.grant(1)
        _ = window.takeSendable(now: .now)
        #expect(window.nack(seq: .max, retryable: true).map { _ in true } == nil)
        #expect(window.nack(seq: 0, retryable: false).map { _ in true } == nil)
        #expect(window.ack(upTo: .max) == ["a"])
        #expect(window.isEmpty)
    }

    @Test("credit granted twice up to Int.max saturates (the sum trapped)")
    func creditSaturates() {
        var window = OutboundWindow<Int>()
        window.grant(.max)
        window.grant(.max)
        #expect(window.credit == .max)
        window.enqueue(1)
        #expect(window.takeSendable(now: .now).map(\.item) == [1])
    }

    @Test("a retryable nack queues the message again; a final one dead-letters it")
    func nack() {
        var window = OutboundWindow<String>(maxDeliveries: 2)
        window.enqueue("a")
        window.enqueue("b")
        window.grant(10)
        _ = window.takeSendable(now: .now)
        guard case let .resend(seq)? = window.nack(seq: 1, retryable: true) else {
            Issue.record("expected a resend")
            return
        }
        #expect(seq == 3)
        #expect(window.takeSendable(now: .now).map(\.item) == ["a"])
        guard case let .deadLetter(item, deliveries)? = window.nack(seq: 3, retryable: true) else {
            Issue.record("expected a dead letter after two deliveries")
            return
        }
        #expect(item == "a")
        #expect(deliveries == 2)
        guard case .deadLetter("b", _)? = window.nack(seq: 2, retryable: false) else {
            Issue.record("a final nack dead-letters at once")
            return
        }
        #expect(window.isEmpty)
    }

    @Test("a message the receiver dies with, sent alone first on each connection, is given up after maxLostAlone losses")
    func poison() {
        var window = OutboundWindow<String>(maxLostAlone: 2)
        window.enqueue("poison")
        // Two losses make it a suspect; then two connections die with it alone.
        for loss in 1...4 {
            window.grant(8)
            #expect(window.takeSendable(now: .now).map(\.item) == ["poison"])
            let givenUp = window.connectionLost()
            #expect(givenUp == (loss == 4 ? ["poison"] : []), "loss \(loss)")
            #expect(window.isIsolating == (loss == 2 || loss == 3), "loss \(loss)")
            #expect(window.lossGaveUpAlone == (loss > 2))
        }
        #expect(window.isEmpty)
        #expect(!window.isIsolating)
    }

    /// The case that blocked a pipeline: a stage that crashes on one message of a batch. Every
    /// reconnect sent the whole batch again and the stage died again, so no message got through
    /// until the supervisor gave up (after 10 restarts; the window's own limit was 50 losses, and
    /// then it dead-lettered the whole batch). Now the batch goes one at a time after the second
    /// loss in a row: the messages before the poison are acked, the poison is given up alone, and
    /// the rest go on at full speed.
    @Test("a receiver that crashes on one message of a batch: the others are acked, the one is given up, in six losses")
    func poisonInABatch() {
        var window = OutboundWindow<Int>(maxLostAlone: 3)
        for item in 0..<32 { window.enqueue(item) }
        var acked: [Int] = []
        var givenUp: [Int] = []
        var losses = 0
        // A receiver that takes messages in order and dies when it is given 20.
        while !window.isEmpty {
            window.grant(64)
            var connectionAlive = true
            while connectionAlive {
                let sent = window.takeSendable(now: .now)
                if sent.isEmpty { break }
                if let crash = sent.firstIndex(where: { $0.item == 20 }) {
                    // It acks what came before the poison only when the poison came alone after them.
                    if crash > 0 { acked += window.ack(upTo: sent[crash - 1].seq) }
                    givenUp += window.connectionLost()
                    losses += 1
                    connectionAlive = false
                } else {
                    acked += window.ack(upTo: sent.last!.seq)
                }
            }
            if connectionAlive { break }
        }
        #expect(givenUp == [20])
        #expect(acked.sorted() == Array(0..<32).filter { $0 != 20 })
        // Two with the batch, one as the suspects go two, four… at a time, three alone.
        #expect(losses == 6, "the supervisor restarts a stage 10 times a minute before it gives up: \(losses)")
        #expect(!window.isIsolating)
    }

    @Test("unsent messages whose inputs come again are forgotten; sent ones stay until acked")
    func removeUnsent() {
        var window = OutboundWindow<String>()
        for item in ["keep", "stale sent", "stale", "keep too"] { window.enqueue(item) }
        window.grant(2)
        #expect(window.takeSendable(now: .now).map(\.item) == ["keep", "stale sent"])
        #expect(window.removeUnsent { $0.hasPrefix("stale") } == 1)
        #expect(window.count == 3)
        window.grant(10)
        #expect(window.takeSendable(now: .now).map(\.item) == ["keep too"])
        window.connectionLost()
        #expect(window.removeUnsent { $0.hasPrefix("stale") } == 1)  // after a reconnect all are unsent
        window.grant(10)
        #expect(window.takeSendable(now: .now).map(\.item) == ["keep", "keep too"])
    }

    @Test("messages removed before they were sent leave no gap in the numbers: a receiver counts a gap against the credit")
    func removeUnsentKeepsNumbersContiguous() throws {
        var sender = OutboundWindow<Int>()
        for item in 0..<300 { sender.enqueue(item) }
        sender.grant(256)
        #expect(sender.takeSendable(now: .now).count == 256)
        sender.connectionLost()
        // Every third message's input broke upstream meanwhile: it will come again.
        #expect(sender.removeUnsent { $0 % 3 == 0 } == 100)
        #expect(sender.count == 200)
        var receiver = InboundWindow(window: 128)
        sender.grant(receiver.initialCredit)
        let sent = sender.takeSendable(now: .now)
        #expect(sent.map(\.seq) == Array(1...128))
        #expect(sent.allSatisfy { receiver.receive(seq: $0.seq) == .new })
        for message in sent { receiver.complete(seq: message.seq) }
        let taken = receiver.takeAck()
        let (ack, credit) = try #require(taken)
        #expect(sender.ack(upTo: ack).count == 128)
        sender.grant(credit)
        let rest = sender.takeSendable(now: .now)
        #expect(rest.map(\.seq) == Array(129...200))
        #expect(rest.allSatisfy { receiver.receive(seq: $0.seq) == .new })
    }

    @Test("one link lost without an ack sends its batch again whole (a restart); a second in a row makes the batch suspects")
    func isolateAfterTwo() {
        var window = OutboundWindow<Int>()
        for item in 0..<5 { window.enqueue(item) }
        window.grant(8)
        #expect(window.takeSendable(now: .now).count == 5)
        #expect(window.connectionLost().isEmpty)
        #expect(!window.isIsolating)
        window.grant(8)
        #expect(window.takeSendable(now: .now).map(\.item) == [0, 1, 2, 3, 4])
        #expect(window.connectionLost().isEmpty)
        #expect(window.isolated == 5)
        window.grant(8)
        #expect(window.takeSendable(now: .now).map(\.item) == [0])
        // An ack on a link in between starts the count again.
        var other = OutboundWindow<Int>()
        for item in 0..<5 { other.enqueue(item) }
        other.grant(8)
        _ = other.takeSendable(now: .now)
        other.connectionLost()
        other.grant(8)
        let sent = other.takeSendable(now: .now)
        #expect(other.ack(upTo: sent[0].seq) == [0])
        other.connectionLost()
        other.grant(8)
        _ = other.takeSendable(now: .now)
        other.connectionLost()
        #expect(!other.isIsolating, "one loss without an ack since the last ack")
    }

    @Test("links this side closed for overdue acks count nothing: a receiver waiting minutes on its next stage loses no message")
    func overdueAcksAreNoCrash() {
        var window = OutboundWindow<Int>(maxLostDeliveries: 3, maxLostAlone: 1)
        for item in 0..<4 { window.enqueue(item) }
        for _ in 0..<20 {
            window.grant(8)
            #expect(window.takeSendable(now: .now).count == 4)
            #expect(window.connectionLost(counting: false).isEmpty)
            #expect(!window.isIsolating)
        }
        // A crash, then a close for overdue acks, then a crash: not two losses in a row.
        window.grant(8)
        _ = window.takeSendable(now: .now)
        window.connectionLost()
        window.grant(8)
        _ = window.takeSendable(now: .now)
        window.connectionLost(counting: false)
        window.grant(8)
        _ = window.takeSendable(now: .now)
        window.connectionLost()
        #expect(!window.isIsolating)
        #expect(window.count == 4)
        // While isolating, an overdue ack is no strike either.
        window.grant(8)
        _ = window.takeSendable(now: .now)
        window.connectionLost()
        #expect(window.isolated == 4)
        for _ in 0..<5 {
            window.grant(8)
            #expect(window.takeSendable(now: .now).map(\.item) == [0])
            #expect(window.connectionLost(counting: false).isEmpty)
        }
        #expect(window.count == 4)
    }

    @Test("suspects go one, two, four at a time while nothing dies; after a loss one at a time; a loss after an ack on the connection is no strike")
    func isolationPace() {
        var window = OutboundWindow<Int>(maxLostAlone: 1, isolateAfter: 1)
        for item in 0..<8 { window.enqueue(item) }
        window.grant(16)
        #expect(window.takeSendable(now: .now).count == 8)
        #expect(window.connectionLost().isEmpty)
        #expect(window.isolated == 8)
        window.grant(16)
        let zero = window.takeSendable(now: .now)
        #expect(zero.map(\.item) == [0])
        #expect(window.takeSendable(now: .now).isEmpty, "the next only once 0 is acked")
        #expect(window.ack(upTo: zero[0].seq) == [0])
        let pair = window.takeSendable(now: .now)
        #expect(pair.map(\.item) == [1, 2])
        #expect(window.ack(upTo: pair[1].seq) == [1, 2])
        #expect(window.takeSendable(now: .now).map(\.item) == [3, 4, 5, 6])
        // Dies with four in flight: no strike for any (maxLostAlone 1 would give it up), and one
        // at a time from now on, acks or not.
        #expect(window.connectionLost().isEmpty)
        window.grant(16)
        let three = window.takeSendable(now: .now)
        #expect(three.map(\.item) == [3])
        #expect(window.ack(upTo: three[0].seq) == [3])
        #expect(window.takeSendable(now: .now).map(\.item) == [4])
        // Dies with 4 alone, but after acking 3 on this connection: no strike either.
        #expect(window.connectionLost().isEmpty)
        window.grant(16)
        var left: [Int] = []
        while window.isIsolating {
            let one = window.takeSendable(now: .now)
            #expect(one.count == 1)
            left += window.ack(upTo: one[0].seq)
        }
        #expect(left == [4, 5, 6, 7])
        // No suspects left: new messages go together.
        for item in 8..<11 { window.enqueue(item) }
        #expect(window.takeSendable(now: .now).map(\.item) == [8, 9, 10])
    }

    @Test("a receiver killed again and again that acks something on each connection (chaos) costs no message and isolates none")
    func progressClearsSuspicion() {
        var window = OutboundWindow<Int>(maxDeliveries: 1, maxLostDeliveries: 3, suspects: 4, maxLostAlone: 1)
        for item in 0..<100 { window.enqueue(item) }
        for round in 0..<40 {
            window.grant(4)
            let sent = window.takeSendable(now: .now)
            #expect(sent.count == 4)
            #expect(window.ack(upTo: sent[0].seq) == [round])
            #expect(window.connectionLost().isEmpty, "round \(round)")
            #expect(!window.isIsolating)
        }
        #expect(window.count == 60)
    }

    @Test("a lost connection counts only against the oldest messages in flight: one queued far back is not a suspect")
    func suspects() {
        var window = OutboundWindow<Int>(maxDeliveries: 1, suspects: 3, maxLostAlone: 1, isolateAfter: 1)
        for item in 0..<10 { window.enqueue(item) }
        window.grant(10)
        #expect(window.takeSendable(now: .now).count == 10)
        #expect(window.connectionLost().isEmpty)
        // The three oldest are suspects; 1 is the poison.
        #expect(window.isolated == 3)
        window.grant(10)
        let zero = window.takeSendable(now: .now)
        #expect(zero.map(\.item) == [0])
        #expect(window.ack(upTo: zero[0].seq) == [0])
        #expect(window.takeSendable(now: .now).map(\.item) == [1, 2])
        #expect(window.connectionLost().isEmpty, "two in flight: neither is known to be it")
        window.grant(10)
        #expect(window.takeSendable(now: .now).map(\.item) == [1])
        #expect(window.connectionLost() == [1], "alone and first on its connection")
        #expect(window.lossGaveUpAlone)
        window.grant(10)
        let two = window.takeSendable(now: .now)
        #expect(two.map(\.item) == [2])
        #expect(window.ack(upTo: two[0].seq) == [2])
        // The seven behind the suspects were never suspected: they go together.
        #expect(window.takeSendable(now: .now).map(\.item) == [3, 4, 5, 6, 7, 8, 9])
    }

    @Test("suspects removed before they are sent again (their inputs come again) or nacked end the isolation")
    func suspectsRemoved() {
        var window = OutboundWindow<Int>(maxDeliveries: 3, isolateAfter: 1)
        for item in 0..<4 { window.enqueue(item) }
        window.grant(4)
        #expect(window.takeSendable(now: .now).count == 4)
        window.connectionLost()
        #expect(window.isolated == 4)
        #expect(window.removeUnsent { $0 % 2 == 0 } == 2)
        #expect(window.isolated == 2)
        window.grant(4)
        let one = window.takeSendable(now: .now)
        #expect(one.map(\.item) == [1])
        guard case .resend? = window.nack(seq: one[0].seq, retryable: true) else {
            Issue.record("a retryable nack resends")
            return
        }
        #expect(window.isolated == 1, "answered: no longer a suspect")
        #expect(window.dropUnsent().sorted() == [1, 3])
        #expect(!window.isIsolating)
    }

    @Test("an overdue ack is noticed")
    func overdue() {
        var window = OutboundWindow<Int>()
        window.enqueue(1)
        window.grant(1)
        let start = ContinuousClock.now
        _ = window.takeSendable(now: start)
        #expect(!window.hasOverdue(now: start + .seconds(5), timeout: .seconds(30)))
        #expect(window.hasOverdue(now: start + .seconds(31), timeout: .seconds(30)))
    }
}

@Suite("Inbound window (receiver)")
struct InboundWindowTests {
    @Test("acks cover the longest done prefix and return its credit")
    func prefix() {
        var window = InboundWindow(window: 8)
        #expect(window.initialCredit == 8)
        for seq in 1...4 { #expect(window.receive(seq: UInt64(seq)) == .new) }
        window.complete(seq: 2)
        #expect(window.takeAck() == nil)  // 1 is not done: nothing to ack yet
        window.complete(seq: 1)
        window.complete(seq: 4)
        let ack = window.takeAck()
        #expect(ack?.ack == 2)
        #expect(ack?.credit == 2)
        window.complete(seq: 3)
        #expect(window.takeAck()?.ack == 4)
        #expect(window.outstanding == 0)
    }

    @Test("repeated sequence numbers are recognised, not handled twice")
    func duplicates() {
        var window = InboundWindow()
        #expect(window.receive(seq: 1) == .new)
        #expect(window.receive(seq: 2) == .new)
        window.complete(seq: 1)
        _ = window.takeAck()
        #expect(window.receive(seq: 1) == .alreadyAcked)
        #expect(window.receive(seq: 2) == .inProgress)
        #expect(window.receive(seq: 3) == .new)
    }

    @Test("a message beyond the credit granted is an overrun, not taken; credit sent later makes room")
    func overrun() {
        var window = InboundWindow(window: 2)
        #expect(window.receive(seq: 1) == .new)
        #expect(window.receive(seq: 2) == .new)
        #expect(window.receive(seq: 3) == .overrun)
        #expect(window.outstanding == 2, "the overrun is not recorded")
        // A resend of a seq already taken is not new work and needs no credit.
        #expect(window.receive(seq: 2) == .inProgress)
        window.complete(seq: 1)
        #expect(window.takeAck()?.credit == 1)  // sent: one more allowed
        #expect(window.receive(seq: 3) == .new)
        #expect(window.receive(seq: 4) == .overrun)
        // While draining the credit is not sent, so it does not count.
        window.complete(seq: 2)
        #expect(window.takeAck(granting: false)?.ack == 2)
        #expect(window.receive(seq: 4) == .overrun)
    }

    @Test("numbers skipped are lines that could not be read: they use credit, are done, and the next ack covers them")
    func gaps() {
        var window = InboundWindow(window: 8)
        #expect(window.receive(seq: 1) == .new)
        #expect(window.receive(seq: 4) == .new)  // 2 and 3 were refused lines
        #expect(window.outstanding == 4)
        window.complete(seq: 1)
        let first = window.takeAck()
        #expect(first?.ack == 3, "the refused lines do not hold the ack back")
        #expect(first?.credit == 3, "and their credit comes back with it")
        window.complete(seq: 4)
        #expect(window.takeAck()?.ack == 4)
        // A gap wider than the credit left is an overrun: a peer cannot make the receiver keep
        // a billion numbers by skipping to a large seq.
        #expect(window.receive(seq: 1 << 40) == .overrun)
        #expect(window.outstanding == 0)
    }

    @Test("large messages get fewer in flight: the credit given back keeps their bytes under maxBytes")
    func boundedInBytes() {
        var window = InboundWindow(window: 256, maxBytes: 1_000_000)
        #expect(window.initialCredit == 256, "nothing is known of the sizes yet")
        for seq in 1...256 { #expect(window.receive(seq: UInt64(seq), bytes: 200_000) == .new) }
        for seq in 1...256 { window.complete(seq: UInt64(seq)) }
        let ack = window.takeAck()
        #expect(ack?.ack == 256)
        #expect(ack?.credit == 5, "1,000,000 bytes hold five 200,000-byte messages")
        for seq in 257...261 { #expect(window.receive(seq: UInt64(seq), bytes: 200_000) == .new) }
        #expect(window.receive(seq: 262, bytes: 200_000) == .overrun)
        window.complete(seq: 257)
        #expect(window.takeAck()?.credit == 1, "one acked, one more")
    }

    @Test("small messages keep the whole window, and credit grows back when messages get smaller")
    func smallMessagesKeepTheWindow() {
        var window = InboundWindow(window: 64, maxBytes: 1_000_000)
        for seq in 1...64 { _ = window.receive(seq: UInt64(seq), bytes: 230) }
        for seq in 1...64 { window.complete(seq: UInt64(seq)) }
        #expect(window.takeAck()?.credit == 64)

        var shrinking = InboundWindow(window: 64, maxBytes: 1_000_000)
        for seq in 1...64 { _ = shrinking.receive(seq: UInt64(seq), bytes: 500_000) }
        for seq in 1...64 { shrinking.complete(seq: UInt64(seq)) }
        #expect(shrinking.takeAck()?.credit == 2)
        var seq: UInt64 = 65
        var credit = 0
        for _ in 0..<40 {
            _ = shrinking.receive(seq: seq, bytes: 1_000)
            shrinking.complete(seq: seq)
            credit = shrinking.takeAck()?.credit ?? 0
            seq += 1
        }
        #expect(shrinking.allowedInFlight == 64, "the average came down to small messages")
        #expect(credit >= 1)
    }

    @Test("credit goes back in chunks of a quarter of the window, or whole once nothing is in flight")
    func creditInChunks() {
        var window = InboundWindow(window: 8)
        for seq in 1...8 { #expect(window.receive(seq: UInt64(seq)) == .new) }
        window.complete(seq: 1)
        let first = window.takeAck()
        #expect(first?.ack == 1, "the ack goes at once")
        #expect(first?.credit == 0, "one message of credit is held back")
        window.complete(seq: 2)
        let second = window.takeAck()
        #expect(second?.ack == 2)
        #expect(second?.credit == 2, "a quarter of the window: both go back together")
        #expect(window.receive(seq: 9) == .new)
        #expect(window.receive(seq: 10) == .new)
        #expect(window.receive(seq: 11) == .overrun, "what was held back was never granted")
        for seq in 3...10 { window.complete(seq: UInt64(seq)) }
        let last = window.takeAck()
        #expect(last?.ack == 10)
        #expect(last?.credit == 8, "nothing in flight: the whole window")
        #expect(window.outstanding == 0)
    }

    @Test("a held-back remainder is granted once the last message in flight is done")
    func remainderWhenIdle() {
        var window = InboundWindow(window: 16)
        for seq in 1...3 { #expect(window.receive(seq: UInt64(seq)) == .new) }
        window.complete(seq: 1)
        #expect(window.takeAck()?.credit == 0, "1 of 16 freed, 2 still in flight, 13 unused")
        window.complete(seq: 2)
        window.complete(seq: 3)
        #expect(window.takeAck()?.credit == 3, "the sender has nothing in flight: all of it back")
        #expect(window.openCredit == 16)
    }

    @Test("a message larger than maxBytes still gets one in flight: never no credit at all")
    func atLeastOne() {
        var window = InboundWindow(window: 8, maxBytes: 1_000)
        for seq in 1...8 { _ = window.receive(seq: UInt64(seq), bytes: 5_000_000) }
        for seq in 1...8 { window.complete(seq: UInt64(seq)) }
        #expect(window.allowedInFlight == 1)
        #expect(window.takeAck()?.credit == 1)
    }

    @Test("a connection's first message is seq 1; a first seq further on counts the ones before as unreadable")
    func start() {
        var window = InboundWindow(window: 4)
        #expect(window.receive(seq: 5) == .overrun, "4 unread lines and this one need 5 credits; 4 were granted")
        #expect(window.receive(seq: 4) == .new)
        window.complete(seq: 4)
        #expect(window.takeAck()?.ack == 4)
    }
}

@Suite("Idle timer (PROTOCOL.md 7.6)")
struct IdleTimerTests {
    let start = ContinuousClock.now

    @Test("a silent peer is pinged after a third of the timeout, then each third, and closed at the timeout")
    func silent() {
        var timer = IdleTimer(timeout: .seconds(30))
        #expect(timer.check(now: start, lastHeard: start) == .wait(until: start + .seconds(10)))
        #expect(timer.check(now: start + .seconds(10), lastHeard: start) == .ping(id: "idle-1"))
        #expect(timer.check(now: start + .seconds(10), lastHeard: start) == .wait(until: start + .seconds(20)))
        #expect(timer.check(now: start + .seconds(20), lastHeard: start) == .ping(id: "idle-2"))
        #expect(timer.check(now: start + .seconds(29), lastHeard: start) == .wait(until: start + .seconds(30)))
        #expect(timer.check(now: start + .seconds(30), lastHeard: start) == .close)
    }

    @Test("a quiet peer that answers the pings is never closed")
    func quietButLive() {
        var timer = IdleTimer(timeout: .seconds(3))
        var heard = start
        var now = start
        for _ in 0..<100 {
            switch timer.check(now: now, lastHeard: heard) {
            case let .wait(until): now = until
            case .ping: heard = now + .milliseconds(5)  // the pong comes back
            case .close:
                Issue.record("a live peer was closed at \(start.duration(to: now))")
                return
            }
        }
        #expect(start.duration(to: now) > .seconds(30), "time went on: \(start.duration(to: now))")
    }

    @Test("a line from the peer puts the next ping off")
    func traffic() {
        var timer = IdleTimer(timeout: .seconds(30))
        #expect(timer.check(now: start + .seconds(10), lastHeard: start) == .ping(id: "idle-1"))
        let heard = start + .seconds(12)
        #expect(timer.check(now: start + .seconds(13), lastHeard: heard) == .wait(until: heard + .seconds(10)))
        #expect(timer.check(now: start + .seconds(42), lastHeard: heard) == .close)
    }
}

@Suite("Endpoints")
struct EndpointTests {
    @Test("URIs parse, and bad ones say which forms are accepted")
    func parse() throws {
        #expect(try Endpoint(parsing: "-") == .stdio)
        #expect(try Endpoint(parsing: "unix:/run/x.sock") == .unix(path: "/run/x.sock"))
        #expect(try Endpoint(parsing: "tcp://10.0.0.5:7000") == .tcp(host: "10.0.0.5", port: 7000))
        #expect(try Endpoint(parsing: "tcp://[::1]:7000") == .tcp(host: "::1", port: 7000))
        #expect(try Endpoint(parsing: "file:a.jsonl.zst") == .file(path: "a.jsonl.zst"))
        #expect(try Endpoint(parsing: "fd:3") == .descriptor(3))
        for bad in ["tcp://host", "tcp://host:99999", "unix:", "http://x", "sock", "tcp://[::1:5", "tls://[::1]x5", "tcp://[::1]"] {
            #expect(throws: RunnelError.self) { try Endpoint(parsing: bad) }
        }
        #expect(try Endpoint(parsing: "nats://h:4222/s") == .nats(NatsEndpoint(host: "h", port: 4222, subject: "s")))
    }
}

import RunnelProtocol
