import Foundation
import Dispatch
import Logging
import RunnelProtocol
import RunnelTransport

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
        current.links = linkStatistics()
        guard let data = try? StageStatistics.fileEncoder.encode(current) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) { rename(temporary, path) }
    }

    /// Both sides of the links: the input summed over the upstream connections (when the stage
    /// listens on a socket), and the output as the reporter last saw it (a link to the next
    /// stage; a stream or a JetStream subject has none).
    private func linkStatistics() -> [LinkStatistics] {
        var links: [LinkStatistics] = []
        switch options.listen {
        case .stdio, .file, .nats:
            break
        case .unix, .tcp, .tls, .descriptor:
            let flows = parts.withLock { $0.links.values.map { link, _ in link.flow } }
            links.append(
                LinkStatistics(
                    side: .input, connections: flows.count, credit: flows.reduce(0) { $0 + $1.credit },
                    inFlight: flows.reduce(0) { $0 + $1.inFlight }))
        }
        if let output = outputLink.withLock({ $0 }) { links.append(output) }
        return links
    }

    // MARK: Signals

    func installSignals() -> SignalWatch {
        SignalWatch([SIGTERM, SIGINT]) { [weak self] _ in self?.beginDrain() }
    }
}
