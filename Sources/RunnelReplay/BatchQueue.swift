import Foundation

/// Batches of selected messages handed from the thread that reads the logs to the task that
/// sends them: at most `capacity` batches wait, so a slow receiver slows the reading down
/// (backpressure) instead of the whole log piling up in memory.
///
/// The reader blocks on its own thread (``push(_:)`` waits while the queue is full); the sender
/// suspends in ``next()`` while it is empty. ``cancel()`` wakes a blocked reader, which then stops.
final class BatchQueue: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var batches: [[LoggedMessage]] = []
    private var ended = false
    private var cancelled = false
    private var waiter: CheckedContinuation<[LoggedMessage]?, Never>?
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    /// Queues a batch, waiting while `capacity` batches are queued.
    /// - Returns: `false` once the queue is cancelled: the reader should stop.
    func push(_ batch: [LoggedMessage]) -> Bool {
        condition.lock()
        while !cancelled && batches.count >= capacity { condition.wait() }
        if cancelled {
            condition.unlock()
            return false
        }
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: batch)
            return true
        }
        batches.append(batch)
        condition.unlock()
        return true
    }

    /// No more batches will come.
    func finish() {
        condition.lock()
        ended = true
        let waiter = self.waiter
        self.waiter = nil
        condition.unlock()
        waiter?.resume(returning: nil)
    }

    /// The sender gave up: the reader stops at its next push.
    func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or `nil` after the last one.
    func next() async -> [LoggedMessage]? {
        await withCheckedContinuation { (continuation: CheckedContinuation<[LoggedMessage]?, Never>) in
            condition.lock()
            if !batches.isEmpty {
                let batch = batches.removeFirst()  // at most `capacity` queued: a short shift
                condition.signal()
                condition.unlock()
                continuation.resume(returning: batch)
            } else if ended {
                condition.unlock()
                continuation.resume(returning: nil)
            } else {
                waiter = continuation
                condition.unlock()
            }
        }
    }
}
