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
}
