import Synchronization

/// A FIFO between tasks: producers push, one consumer takes batches, waiting when it is empty.
final class WorkQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var closed = false
        var waiter: CheckedContinuation<Void, Never>?
        /// The consumer waiting in ``take(max:gathering:)`` for this many elements, and whether
        /// its time to gather has run out.
        var gatherer: (count: Int, continuation: CheckedContinuation<Void, Never>)?
        var gatheringOver = false
        /// Waiting in ``emptied()`` for every element to be taken.
        var emptyWaiters: [CheckedContinuation<Void, Never>] = []

        var isEmpty: Bool { items.count == head }

        /// The gathering consumer, when `items` has what it waits for or it need not wait any more.
        mutating func takeGathererIfDone() -> CheckedContinuation<Void, Never>? {
            guard let gatherer, items.count - head >= gatherer.count || closed || gatheringOver else { return nil }
            self.gatherer = nil
            return gatherer.continuation
        }

        mutating func takeEmptyWaiters() -> [CheckedContinuation<Void, Never>] {
            guard isEmpty else { return [] }
            defer { emptyWaiters = [] }
            return emptyWaiters
        }
    }

    private let state = Mutex(State())

    /// Adds `elements` for `take`, unless the queue is closed: then they are dropped, as
    /// ``discardAndClose()`` drops what it holds (a reader that was between reading and pushing
    /// when a drain closed the queue), and the caller counts them.
    /// - Returns: how many elements were dropped (0, or all of them).
    @discardableResult
    func push(_ elements: [Element]) -> Int {
        guard !elements.isEmpty else { return 0 }
        let (accepted, waiter, gatherer) = state.withLock {
            s -> (Bool, CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            guard !s.closed else { return (false, nil, nil) }
            if s.items.isEmpty && s.head == 0 {
                s.items = elements  // the usual case, taken whole before the next push: no copy
            } else {
                s.items.append(contentsOf: elements)
            }
            defer { s.waiter = nil }
            return (true, s.waiter, s.takeGathererIfDone())
        }
        waiter?.resume()
        gatherer?.resume()
        return accepted ? 0 : elements.count
    }

    /// No more pushes; `take` returns what is left, then `nil`.
    func close() {
        let (waiter, gatherer) = state.withLock { s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            s.closed = true
            defer { s.waiter = nil }
            return (s.waiter, s.takeGathererIfDone())
        }
        waiter?.resume()
        gatherer?.resume()
    }

    var count: Int { state.withLock { $0.items.count - $0.head } }

    /// Closes the queue and forgets what it holds.
    /// - Returns: how many elements were dropped.
    @discardableResult
    func discardAndClose() -> Int {
        let (dropped, waiter, gatherer, emptied) = state.withLock {
            s -> (Int, CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?, [CheckedContinuation<Void, Never>]) in
            let n = s.items.count - s.head
            s.items.removeAll()
            s.head = 0
            s.closed = true
            defer { s.waiter = nil }
            return (n, s.waiter, s.takeGathererIfDone(), s.takeEmptyWaiters())
        }
        waiter?.resume()
        gatherer?.resume()
        for waiter in emptied { waiter.resume() }
        return dropped
    }

    /// Returns once every element pushed so far has been taken (or discarded).
    func emptied() async {
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                if s.isEmpty { return true }
                s.emptyWaiters.append(continuation)
                return false
            }
            if now { continuation.resume() }
        }
    }

    /// Up to `max` elements, waiting for at least one; `nil` once closed and empty. With
    /// `gathering`, a consumer that does once a batch what costs the same for one element as for
    /// many (the store's commit) waits up to that long after the first for `max` to be there:
    /// the wait ends early when they are, or when the queue closes.
    func take(max: Int, gathering: Duration = .zero) async -> [Element]? {
        if gathering > .zero {
            await waitForAny()
            await waitFor(max, atMost: gathering)
        }
        return await takeAvailable(max: max)
    }

    /// Returns once an element is there or the queue is closed.
    private func waitForAny() async {
        await withCheckedContinuation { continuation in
            let resumeNow = state.withLock { s -> Bool in
                if s.items.count > s.head || s.closed { return true }
                s.waiter = continuation
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }

    /// Returns once `count` elements are there, the queue is closed, or `duration` has passed.
    private func waitFor(_ count: Int, atMost duration: Duration) async {
        let there = state.withLock { s -> Bool in
            s.gatheringOver = false
            return s.items.count - s.head >= count || s.closed
        }
        guard !there else { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                // Ends the wait when the time is up, and also when the wait ended otherwise and
                // this task was cancelled: either way before the group, and so this call, returns.
                try? await Task.sleep(for: duration)
                let gatherer = self.state.withLock { s -> CheckedContinuation<Void, Never>? in
                    s.gatheringOver = true
                    return s.takeGathererIfDone()
                }
                gatherer?.resume()
            }
            await withCheckedContinuation { continuation in
                let resumeNow = state.withLock { s -> Bool in
                    s.gatherer = (count, continuation)
                    if s.takeGathererIfDone() != nil { return true }
                    return false
                }
                if resumeNow { continuation.resume() }
            }
            group.cancelAll()
        }
    }

    /// Up to `max` elements, waiting for at least one; `nil` once closed and empty.
    private func takeAvailable(max: Int) async -> [Element]? {
        while true {
            let (batch, emptied) = state.withLock { s -> ([Element]?, [CheckedContinuation<Void, Never>]) in
                let available = s.items.count - s.head
                guard available > 0 else { return (s.closed ? nil : [], []) }
                let n = min(available, max)
                if s.head == 0 && n == s.items.count {
                    // All of it: handed over whole. (Copying it out and then emptying the queue
                    // "keeping capacity" allocated a second buffer of that capacity on every batch,
                    // as the copy still shared the first: issue 14.)
                    let all = s.items
                    s.items = []
                    return (all, s.takeEmptyWaiters())
                }
                let out = Array(s.items[s.head..<s.head + n])
                s.head += n
                if s.head == s.items.count {
                    s.items.removeAll(keepingCapacity: true)
                    s.head = 0
                }
                return (out, s.takeEmptyWaiters())
            }
            for waiter in emptied { waiter.resume() }
            guard let batch else { return nil }
            if !batch.isEmpty { return batch }
            await waitForAny()
        }
    }
}
