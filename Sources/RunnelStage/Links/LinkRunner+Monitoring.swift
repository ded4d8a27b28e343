import Foundation
import Dispatch
import Logging
import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

/// What a runner shows of itself: the tap socket, the statistics file, and the signals that
/// start a drain.
extension LinkRunner {
    // MARK: Tap

    /// Opens the tap socket, if asked to; a stage that cannot offer a tap still runs.
    func openTap() {
        guard let prefix = options.tapPath else { return }
        do throws(RunnelError) {
            let point = try TapPoint(path: "\(prefix).\(getpid()).sock")
            parts.withLock { $0.tap = point }
        } catch {
            logger.warning("no tap: \(error.code.name): \(error.message)")
        }
    }

    // MARK: Statistics

    /// What the runner has done so far, for `runnel status`.
    public var statistics: StageStatistics { stats.withLock { $0 } }

    func writeStatistics(to path: String) {
        capture.reportStops(to: logger)
        var current = statistics
        current.stage = name
        current.inFlight = queue.count
        current.draining = isDraining
        current.updated = Timestamp.now()
        current.capture = capture.statuses
        guard let data = try? StageStatistics.fileEncoder.encode(current) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) { rename(temporary, path) }
    }

    // MARK: Signals

    func installSignals() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.beginDrain() }
            source.resume()
            return source
        }
    }
}
