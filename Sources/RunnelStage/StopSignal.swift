import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// SIGTERM and SIGINT as a request to stop: a runner blocked reading its input has nothing in
/// flight and exits at once (status 0); one that is working finishes what it holds first.
final class StopSignal: @unchecked Sendable {  // `sources` is set once, before sharing
    private struct State {
        var reading = false
        var requested = false
    }

    private let state = Mutex(State())
    private var sources: [any DispatchSourceSignal] = []

    static func install() -> StopSignal {
        let signal = StopSignal()
        for number in [SIGTERM, SIGINT] {
            Glibc.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { signal.request() }
            source.resume()
            signal.sources.append(source)
        }
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
