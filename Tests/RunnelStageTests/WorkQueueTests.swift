import Testing

@testable import RunnelStage

@Suite("WorkQueue: the FIFO between a link's reader and its workers")
struct WorkQueueTests {
    @Test("take returns what was pushed, in order, in batches of at most max")
    func order() async {
        let queue = WorkQueue<Int>()
        queue.push(Array(0..<10))
        #expect(await queue.take(max: 4) == [0, 1, 2, 3])
        #expect(await queue.take(max: 4) == [4, 5, 6, 7])
        #expect(await queue.take(max: 4) == [8, 9])
        #expect(queue.count == 0)
    }

    @Test("a waiting take wakes on a push, and on close returns nil once empty")
    func waiting() async {
        let queue = WorkQueue<String>()
        async let first = queue.take(max: 8)
        queue.push(["a"])
        #expect(await first == ["a"])
        async let second = queue.take(max: 8)
        queue.close()
        #expect(await second == nil)
    }

    @Test("a gathering take ends as soon as a full batch is there, not when its hour is up", .timeLimit(.minutes(1)))
    func gatheringEndsWhenFull() async {
        let queue = WorkQueue<Int>()
        async let batch = queue.take(max: 10, gathering: .seconds(3600))
        queue.push([0, 1, 2])
        queue.push(Array(3..<7))
        queue.push(Array(7..<12))
        #expect(await batch == Array(0..<10))
        #expect(await queue.take(max: 10) == [10, 11])
    }

    @Test("a gathering take hands over what came once its time is up; a close ends it at once", .timeLimit(.minutes(1)))
    func gatheringEndsInTime() async {
        let queue = WorkQueue<Int>()
        queue.push([0, 1, 2])
        #expect(await queue.take(max: 10, gathering: .milliseconds(5)) == [0, 1, 2])

        async let closed = queue.take(max: 10, gathering: .seconds(3600))
        queue.push([3, 4])
        queue.close()
        #expect(await closed == [3, 4])
        #expect(await queue.take(max: 10, gathering: .seconds(3600)) == nil)
    }

    @Test("a push after the queue closed is dropped and counted, never left where no take will find it")
    func pushAfterClose() async {
        let queue = WorkQueue<Int>()
        #expect(queue.push([1, 2]) == 0)
        #expect(queue.discardAndClose() == 2)
        #expect(queue.push([3, 4, 5]) == 3)  // a reader that read before the drain and pushed after
        #expect(queue.count == 0)
        #expect(await queue.take(max: 8) == nil)
    }

    @Test("close lets the consumer finish what is queued; discardAndClose drops it and says how much")
    func closing() async {
        let queue = WorkQueue<Int>()
        queue.push([1, 2, 3])
        queue.close()
        #expect(await queue.take(max: 2) == [1, 2])
        #expect(await queue.take(max: 2) == [3])
        #expect(await queue.take(max: 2) == nil)

        let other = WorkQueue<Int>()
        other.push([1, 2, 3, 4])
        _ = await other.take(max: 1)
        #expect(other.discardAndClose() == 3)
        #expect(await other.take(max: 8) == nil)
    }

    @Test("many producers, one consumer: every element arrives exactly once")
    func concurrentProducers() async {
        let queue = WorkQueue<Int>()
        await withTaskGroup(of: Void.self) { group in
            for producer in 0..<8 {
                group.addTask {
                    for i in 0..<500 { queue.push([producer * 1000 + i]) }
                }
            }
            group.addTask {
                var seen: [Int] = []
                while seen.count < 4000, let batch = await queue.take(max: 64) { seen += batch }
                #expect(seen.count == 4000)
                #expect(Set(seen).count == 4000)
            }
        }
    }
}
