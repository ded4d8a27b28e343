import Foundation
import Synchronization
import RunnelProtocol
import Testing

@testable import RunnelStage

@Suite("InputCursor: how many source lines are done end to end")
struct InputCursorTests {
    func temporaryPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("cursor-\(UUID().uuidString)").path
    }

    @Test("it advances only over a run of done lines: a gap holds it back until filled")
    func gaps() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let cursor = try InputCursor(path: path)
        #expect(cursor.start == 0)
        cursor.complete(1)
        cursor.complete(2)
        cursor.flush()
        #expect(try InputCursor(path: path).start == 0, "line 0 is not done, so nothing after it counts")
        cursor.complete(0)
        cursor.flush()
        #expect(try InputCursor(path: path).start == 3)
    }

    @Test("a restarted reader resumes after the lines an earlier one finished")
    func resumes() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try InputCursor(path: path)
        for line in 0..<5 { first.complete(line) }
        first.flush()
        let second = try InputCursor(path: path)
        #expect(second.start == 5)
        second.complete(5)
        second.flush()
        #expect(try InputCursor(path: path).start == 6)
    }

    @Test("a put-off write held up after reading its count cannot land after a later flush: the flush waits its turn and writes the newer count")
    func heldWriteThenFlush() async throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        // The second write (the first after the one made on opening) is held until released.
        let calls = Mutex(0)
        let reached = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let cursor = try InputCursor(path: path) { _ in
            let call = calls.withLock { n -> Int in
                n += 1
                return n
            }
            if call == 2 {
                reached.signal()
                _ = release.wait(timeout: .now() + .seconds(10))
            }
        }
        // Within 200 ms of the write made on opening: put off, made by a task 200 ms later.
        cursor.complete(0)
        let held = Mutex(false)
        await Self.onQueue { held.withLock { $0 = reached.wait(timeout: .now() + .seconds(10)) == .success } }
        #expect(held.withLock { $0 }, "the put-off write was never made")
        // That write has read its count (1) and is held. Two more lines, then the run's last flush.
        cursor.complete(1)
        cursor.complete(2)
        let released = Mutex(false)
        let flushDone = DispatchSemaphore(value: 0)
        let flushed = Self.onQueueLater { () -> (RunnelError?, Bool) in
            defer { flushDone.signal() }
            let failure = cursor.flush()
            return (failure, released.withLock { $0 })
        }
        // The held write goes on once the flush is done, or after 100 ms if the flush waits for
        // it, as it must: a flush that ends first lets the held write land after it with its
        // older count (CI saw a cursor at 399 of 400 after "every URL was acked end to end").
        await Self.onQueue { _ = flushDone.wait(timeout: .now() + .milliseconds(100)) }
        released.withLock { $0 = true }
        release.signal()
        let (failure, endedAfterRelease) = await flushed.value
        #expect(failure == nil)
        #expect(endedAfterRelease, "the flush ended while an older write was still to be made")
        #expect(try InputCursor(path: path).start == 3, "the file keeps the last flush's count")
    }

    static func onQueue(_ body: @escaping @Sendable () -> Void) async {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                body()
                continuation.resume()
            }
        }
    }

    static func onQueueLater<T: Sendable>(_ body: @escaping @Sendable () -> T) -> Task<T, Never> {
        Task {
            await withCheckedContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(returning: body()) }
            }
        }
    }

    @Test("a cursor file that does not hold a count is refused with DATA_LOSS, not read as 0")
    func corrupt() throws {
        let path = temporaryPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try "twelve\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect {
            _ = try InputCursor(path: path)
        } throws: { error in
            (error as? RunnelError)?.code == .dataLoss
        }
        try "-3\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: RunnelError.self) { _ = try InputCursor(path: path) }
    }
}
