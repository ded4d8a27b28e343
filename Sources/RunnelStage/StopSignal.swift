import Logging
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as a request to stop: a runner blocked reading its input has nothing in
/// flight and exits at once (status 0); one that is working finishes the batch it holds first.
/// A second signal, from someone who will not wait for that, ends the process at once with
/// status 128 + the signal's number, as a shell reports a process the signal killed.
final class StopSignal: Sendable {
    private struct State {
        var reading = false
        var requested = false
    }

    private let state = Mutex(State())
    /// SIGTERM and SIGINT are watched while this lives (a filter runner keeps it to its end).
    private let watch = Mutex<SignalWatch?>(nil)

    private let logger: Logger

    private init(logger: Logger) { self.logger = logger }

    static func install(logger: Logger) -> StopSignal {
        let signal = StopSignal(logger: logger)
        signal.watch.withLock { $0 = SignalWatch([SIGTERM, SIGINT]) { [weak signal] number in signal?.request(number) } }
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

    private func request(_ number: Int32) {
        let (exitNow, again) = state.withLock { s -> (Bool, Bool) in
            defer { s.requested = true }
            return (s.reading, s.requested)
        }
        if exitNow { exit(0) }
        if again {
            logger.warning("a second signal: exiting without finishing the batch in hand")
            _exit(128 + number)
        }
        logger.info("stopping after the batch in hand (a second signal stops at once)")
    }
}
