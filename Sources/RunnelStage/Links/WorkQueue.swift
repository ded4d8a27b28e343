import Synchronization

/// A FIFO between tasks: producers push, one consumer takes batches, waiting when it is empty.
final class WorkQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    func push(_ elements: [Element]) {
        guard !elements.isEmpty else { return }
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.items.append(contentsOf: elements)
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    /// No more pushes; `take` returns what is left, then `nil`.
    func close() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.closed = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    var count: Int { state.withLock { $0.items.count - $0.head } }

    /// Up to `max` elements, waiting for at least one; `nil` once closed and empty.
    func take(max: Int) async -> [Element]? {
        while true {
            let batch = state.withLock { s -> [Element]? in
                let available = s.items.count - s.head
                guard available > 0 else { return s.closed ? nil : [] }
                let n = min(available, max)
                let out = Array(s.items[s.head..<s.head + n])
                s.head += n
                if s.head == s.items.count {
                    s.items.removeAll(keepingCapacity: true)
                    s.head = 0
                }
                return out
            }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    if s.items.count > s.head || s.closed { return true }
                    s.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }
}
