import Synchronization

/// Whether a runner is draining, and what to tell when it starts: raised once, never lowered.
///
/// A part that waits on something else (NATS: room among the held messages) registers with
/// ``onRaise(_:)`` so a drain ends its wait at once, without polling the flag.
final class DrainSignal: Sendable {
    private struct State {
        var raised = false
        var handlers: [@Sendable () -> Void] = []
    }

    private let state = Mutex(State())

    var isRaised: Bool { state.withLock { $0.raised } }

    /// Raises the signal and runs the handlers registered so far.
    /// - Returns: whether this call raised it (`false` if it was already raised).
    func raise() -> Bool {
        let handlers = state.withLock { s -> [@Sendable () -> Void]? in
            guard !s.raised else { return nil }
            s.raised = true
            defer { s.handlers = [] }
            return s.handlers
        }
        guard let handlers else { return false }
        for handler in handlers { handler() }
        return true
    }

    /// Runs `handler` when the signal is raised, or now if it already is.
    func onRaise(_ handler: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.raised { return true }
            s.handlers.append(handler)
            return false
        }
        if now { handler() }
    }
}
