import Synchronization

/// Tracks when one input is done: when each of its outputs was acked downstream (or written,
/// on a stream) and each of its dead letters was written. Then the input itself can be acked.
final class Ticket: Sendable {
    private let remaining: Mutex<Int>
    private let onDone: @Sendable () -> Void

    /// A ticket waiting for `count` releases; with 0 it is done at once.
    init(count: Int, onDone: @escaping @Sendable () -> Void) {
        remaining = Mutex(count)
        self.onDone = onDone
        if count <= 0 { onDone() }
    }

    /// One output is safe.
    func release() {
        let done = remaining.withLock { n -> Bool in
            n -= 1
            return n == 0
        }
        if done { onDone() }
    }
}
