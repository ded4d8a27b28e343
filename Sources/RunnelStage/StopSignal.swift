import Logging
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as a request to stop: a runner blocked reading its input has nothing in
/// flight and exits at once (status 0); one that is working finishes the batch it holds first,
/// and says so. A second signal (an impatient Ctrl-C) cuts that batch short: what it finished
/// is written, the rest of its input is named at the end to be given again (on a pipe nothing
/// would send it again). The stage's work is cancelled, so a fetch stops waiting out its polite
/// delays; a stage busy on the CPU ends its step first. Further signals are told SIGKILL.
final class StopSignal: Sendable {
    private struct State {
        var reading = false
        var signals = 0
        var onUrgent: (@Sendable () -> Void)?
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

    var isRequested: Bool { state.withLock { $0.signals > 0 } }

    /// What a second signal does: cancel the work in hand.
    func onUrgent(_ action: @escaping @Sendable () -> Void) {
        state.withLock { $0.onUrgent = action }
    }

    func setReading(_ reading: Bool) {
        let exitNow = state.withLock { s -> Bool in
            s.reading = reading
            return reading && s.signals > 0
        }
        if exitNow { exit(0) }
    }

    private func request() {
        let (exitNow, count, urgent) = state.withLock { s -> (Bool, Int, (@Sendable () -> Void)?) in
            s.signals += 1
            return (s.reading, s.signals, s.signals == 2 ? s.onUrgent : nil)
        }
        if exitNow { exit(0) }
        switch count {
        case 1:
            logger.info("stopping after the batch in hand (a second signal cuts it short)")
        case 2:
            logger.warning("cutting the batch in hand short: the input it leaves is named at the end")
            urgent?()
        case 3:
            logger.warning("still ending the batch in hand; SIGKILL ends at once")
        default:
            break
        }
    }
}
