import CSignals
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Calls a handler for each SIGTERM, SIGINT or other signal this process is sent, until
/// cancelled, without the window in which libdispatch loses one.
///
/// A `DispatchSource` signal source needs the signal ignored first, and libdispatch installs its
/// own handler later, on its manager thread: a SIGTERM that comes in between is discarded. A
/// stage its supervisor stops a moment after starting it (a pipeline whose queues are already
/// empty) then never drains, and is killed 30 s later. Here the signal is caught by a handler in
/// C that writes its number to a pipe (the self-pipe trick), installed before `init` returns;
/// until then the signal keeps its default action. A caught signal, unlike an ignored one, is
/// reset to its default action in children at exec.
///
/// ```swift
/// let watch = SignalWatch([SIGTERM, SIGINT]) { _ in runner.beginDrain() }
/// defer { watch.cancel() }
/// ```
///
/// Once watched, a signal stays caught for the life of the process: with no watch left it is
/// dropped, as an ignored one would be. Handlers run on one serial queue. If the pipe cannot be
/// made (no descriptor left), the signals keep their default action: SIGTERM then ends the
/// process at once instead of draining it.
public final class SignalWatch: Sendable {
    private let id: UInt64

    /// Starts calling `handler` with the number of each of `signals` that arrives.
    public init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        id = SignalRelay.shared.add(Set(signals), handler)
    }

    /// Stops the calls (one already under way finishes).
    public func cancel() {
        SignalRelay.shared.remove(id)
    }

    deinit {
        cancel()
    }
}

/// The process's one pipe from the C handler, and the watches it serves.
private final class SignalRelay: Sendable {
    static let shared = SignalRelay()

    private struct Watch {
        var signals: Set<Int32>
        var handler: @Sendable (Int32) -> Void
    }

    private struct State {
        var watches: [UInt64: Watch] = [:]
        var next: UInt64 = 0
        var caught: Set<Int32> = []
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "runnel.signals")
    /// The pipe's read end, or -1 when it could not be made.
    private let descriptor: Int32
    nonisolated(unsafe) private let source: (any DispatchSourceRead)?

    private init() {
        descriptor = runnel_signals_open()
        guard descriptor >= 0 else {
            source = nil
            return
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        self.source = source
        source.setEventHandler { [descriptor] in
            var bytes = [UInt8](repeating: 0, count: 64)
            while true {
                let count = bytes.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { return }
                for byte in bytes.prefix(count) { SignalRelay.shared.deliver(Int32(byte)) }
            }
        }
        source.resume()
    }

    func add(_ signals: Set<Int32>, _ handler: @escaping @Sendable (Int32) -> Void) -> UInt64 {
        state.withLock { state in
            if descriptor >= 0 {
                for signal in signals where !state.caught.contains(signal) {
                    if runnel_signals_catch(signal) == 0 { state.caught.insert(signal) }
                }
            }
            state.next += 1
            state.watches[state.next] = Watch(signals: signals, handler: handler)
            return state.next
        }
    }

    func remove(_ id: UInt64) {
        _ = state.withLock { $0.watches.removeValue(forKey: id) }
    }

    private func deliver(_ signal: Int32) {
        let handlers = state.withLock { state in
            state.watches.values.filter { $0.signals.contains(signal) }.map(\.handler)
        }
        for handler in handlers { handler(signal) }
    }
}
