import Synchronization

/// Tracks when one input is done: when each of its outputs was acked downstream (or written,
/// on a stream) and each of its dead letters was written. Then the input itself can be acked.
final class Ticket: Sendable {
    private let remaining: Mutex<Int>
    private let onDone: @Sendable () -> Void
    /// The link the input came on, if it came on one.
    private let origin: InboundLink?

    /// A ticket waiting for `count` releases; with 0 it is done at once.
    init(count: Int, origin: InboundLink? = nil, onDone: @escaping @Sendable () -> Void) {
        remaining = Mutex(count)
        self.onDone = onDone
        self.origin = origin
        if count <= 0 { onDone() }
    }

    /// The input's link broke: its sender will send it again, so its outputs need not be.
    var isAbandoned: Bool { origin?.isAbandoned ?? false }

    /// One output is safe.
    func release() {
        let done = remaining.withLock { n -> Bool in
            n -= 1
            return n == 0
        }
        if done { onDone() }
    }
}
