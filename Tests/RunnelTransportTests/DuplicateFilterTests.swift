import Testing

@testable import RunnelTransport

/// PROTOCOL.md §8.5 as a pure value: finished ids are dropped, copies of one in progress wait for
/// it, and a message whose work was dropped (its link broke) is processed again.
@Suite("Duplicate filter (receiver)")
struct DuplicateFilterTests {
    typealias Filter = DuplicateFilter<Int, String>

    @Test("a finished id is dropped when it comes again; a new one is processed")
    func finishedIsDropped() {
        var filter = Filter(capacity: 8)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#1") == .process)
        #expect(filter.finish(id: "a").isEmpty)
        #expect(filter.arrive(id: "a", from: 2, holding: "a#2") == .finished)
        #expect(filter.arrive(id: "b", from: 2, holding: "b#1") == .process)
    }

    @Test("a copy that comes while the first is in progress is held, and done when the first is")
    func copyInProgressIsHeld() {
        var filter = Filter(capacity: 8)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#1") == .process)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#2") == .held)
        #expect(filter.arrive(id: "a", from: 3, holding: "a#3") == .held)
        #expect(filter.finish(id: "a") == ["a#2", "a#3"])
        #expect(filter.inProgressCount == 0)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#4") == .finished)
    }

    @Test("a message that was not finished (its link broke, or it was nacked) is processed when it comes again")
    func unfinishedRedeliveryIsProcessed() {
        var filter = Filter(capacity: 8)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#1") == .process)
        // Link 1 breaks before "a" is done: its work is dropped; the resend is new work.
        #expect(filter.linkBroke(1).isEmpty)
        #expect(filter.arrive(id: "a", from: 2, holding: "a#2") == .process)
        // Never finished: never remembered, however often it comes.
        #expect(filter.rememberedCount == 0)
    }

    @Test("a resend that came before the first link's loss was noticed takes the first's place")
    func heldCopyIsPromoted() {
        var filter = Filter(capacity: 8)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#1") == .process)
        #expect(filter.arrive(id: "a", from: 1, holding: "a#1bis") == .held)
        #expect(filter.arrive(id: "a", from: 2, holding: "a#2") == .held)
        #expect(filter.arrive(id: "a", from: 3, holding: "a#3") == .held)
        // Link 1 breaks: its own copies go with it; link 2's copy is processed now.
        #expect(filter.linkBroke(1) == ["a#2"])
        #expect(filter.finish(id: "a") == ["a#3"])
        #expect(filter.arrive(id: "a", from: 4, holding: "a#4") == .finished)
    }

    @Test("memory is bounded: the oldest finished id is forgotten past the capacity")
    func bounded() {
        var filter = Filter(capacity: 3)
        for id in ["a", "b", "c", "d", "e"] {
            #expect(filter.arrive(id: id, from: 1, holding: id) == .process)
            _ = filter.finish(id: id)
        }
        #expect(filter.rememberedCount == 3)
        #expect(filter.arrive(id: "a", from: 1, holding: "a") == .process)
        #expect(filter.arrive(id: "b", from: 1, holding: "b") == .process)
        for id in ["c", "d", "e"] { #expect(filter.arrive(id: id, from: 1, holding: id) == .finished) }
        // Finishing an id it remembers does not take a second slot.
        _ = filter.finish(id: "e")
        #expect(filter.arrive(id: "c", from: 1, holding: "c") == .finished)
        for i in 0..<10_000 {
            _ = filter.arrive(id: "x\(i)", from: 1, holding: "")
            _ = filter.finish(id: "x\(i)")
        }
        #expect(filter.rememberedCount == 3)
        #expect(filter.arrive(id: "x9999", from: 1, holding: "") == .finished)
    }

    @Test("capacity 0 turns it off: every copy is processed")
    func off() {
        var filter = Filter(capacity: 0)
        #expect(filter.arrive(id: "a", from: 1, holding: "") == .process)
        #expect(filter.finish(id: "a").isEmpty)
        #expect(filter.arrive(id: "a", from: 1, holding: "") == .process)
        #expect(filter.arrive(id: "a", from: 1, holding: "") == .process)
    }
    @Test("two ids whose hashes collide stay distinct: neither is dropped for the other")
    func collisionKeepsIdsApart() {
        var filter = Filter(capacity: 8)
        let a = RecentID("a", hash: 42)
        let b = RecentID("b", hash: 42)
        #expect(filter.arrive(a, from: 1, holding: "a#1") == .process)
        // b collides with a while a is in progress: processed, not held behind a.
        #expect(filter.arrive(b, from: 1, holding: "b#1") == .process)
        #expect(filter.inProgressCount == 2)
        #expect(filter.finish(a).isEmpty)
        // b collides with a finished id: still processed, and a redelivered copy of a is still dropped.
        #expect(filter.arrive(RecentID("b", hash: 42), from: 2, holding: "b#2") == .held)
        #expect(filter.arrive(RecentID("a", hash: 42), from: 2, holding: "a#2") == .finished)
        #expect(filter.finish(b) == ["b#2"])
        #expect(filter.arrive(RecentID("c", hash: 42), from: 2, holding: "c#1") == .process)
        #expect(filter.arrive(RecentID("b", hash: 42), from: 3, holding: "b#3") == .finished)
        #expect(filter.rememberedCount == 2)
    }

    @Test("a key hashes the id's bytes once: keys made apart from the same id are equal")
    func keyFromTheSameId() {
        var filter = Filter(capacity: 8)
        #expect(RecentID("01JEXAMPLE") == RecentID("01JEXAMPLE"))
        #expect(RecentID("01JEXAMPLE") != RecentID("01JEXAMPLF"))
        #expect(filter.arrive(RecentID("01JEXAMPLE"), from: 1, holding: "x#1") == .process)
        #expect(filter.finish(id: "01JEXAMPLE").isEmpty)
        // A redelivered duplicate (a new link, the first link's ack lost) is still suppressed.
        #expect(filter.arrive(id: "01JEXAMPLE", from: 2, holding: "x#2") == .finished)
    }

    @Test("an evicted id that collided with a remembered one does not take the other with it")
    func evictionWithCollision() {
        var filter = Filter(capacity: 2)
        _ = filter.arrive(RecentID("a", hash: 7), from: 1, holding: "")
        _ = filter.finish(RecentID("a", hash: 7))
        _ = filter.arrive(RecentID("b", hash: 7), from: 1, holding: "")
        _ = filter.finish(RecentID("b", hash: 7))
        _ = filter.arrive(RecentID("c", hash: 8), from: 1, holding: "")
        _ = filter.finish(RecentID("c", hash: 8))  // forgets a, the oldest
        #expect(filter.rememberedCount == 2)
        #expect(filter.arrive(RecentID("a", hash: 7), from: 1, holding: "") == .process)
        #expect(filter.arrive(RecentID("b", hash: 7), from: 1, holding: "") == .finished)
        #expect(filter.arrive(RecentID("c", hash: 8), from: 1, holding: "") == .finished)
    }
}
