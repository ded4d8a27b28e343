import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as a request to stop: a runner blocked reading its input has nothing in
/// flight and exits at once (status 0); one that is working finishes what it holds first.
final class StopSignal: Sendable {
    private struct State {
        var reading = false
        var requested = false
    }

    private let state = Mutex(State())
    /// SIGTERM and SIGINT are watched while this lives (a filter runner keeps it to its end).
    private let watch = Mutex<SignalWatch?>(nil)

    static func install() -> StopSignal {
        let signal = StopSignal()
        signal.watch.withLock { $0 = SignalWatch([SIGTERM, SIGINT]) { [weak signal] _ in signal?.request() } }
        return signal
    }

    var isRequested: Bool { state.withLock { $0.requested } }

    func setReading(_ reading: Bool) {
        let exitNow = state.withLock { s -> Bool in
            s.reading = reading
            return reading && s.requested
        }
        if exitNow { exit(0) }
    }

    private func request() {
        let exitNow = state.withLock { s -> Bool in
            s.requested = true
            return s.reading
        }
        if exitNow { exit(0) }
    }
}
