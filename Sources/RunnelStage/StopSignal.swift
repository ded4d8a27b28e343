import Logging
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as a request to stop: a runner blocked reading its input has nothing in
/// flight and exits at once (status 0); one that is working finishes the batch it holds first,
/// and says so. A second signal (an impatient Ctrl-C) does not cut the batch short: on a pipe
/// nothing would send it again. It is told what it waits for and how to end at once.
final class StopSignal: Sendable {
    private struct State {
        var reading = false
        var requested = false
        var toldAgain = false
    }

    private let state = Mutex(State())
    /// SIGTERM and SIGINT are watched while this lives (a filter runner keeps it to its end).
    private let watch = Mutex<SignalWatch?>(nil)

    private let logger: Logger

    private init(logger: Logger) { self.logger = logger }

    static func install(logger: Logger) -> StopSignal {
        let signal = StopSignal(logger: logger)
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
        let (exitNow, first, tellAgain) = state.withLock { s -> (Bool, Bool, Bool) in
            defer {
                if s.requested { s.toldAgain = true }
                s.requested = true
            }
            return (s.reading, !s.requested, s.requested && !s.toldAgain)
        }
        if exitNow { exit(0) }
        if first {
            logger.info("stopping after the batch in hand")
        } else if tellAgain {
            logger.warning("still finishing the batch in hand, whose input would be lost; SIGKILL ends at once")
        }
    }
}
