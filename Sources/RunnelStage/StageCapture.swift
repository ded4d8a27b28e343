import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

/// A stage's capture logs: its inputs as received (`--capture-in`) and its outputs as sent
/// (`--capture-out`). Both runners hand it every batch; it never blocks them (see
/// ``CaptureLogWriter``), and it says once on stderr when a log stopped and why.
public final class StageCapture: Sendable {
    public let input: CaptureLogWriter?
    public let output: CaptureLogWriter?
    private let reported = Mutex<Set<String>>([])

    /// Opens the logs the configuration names.
    /// - Throws: ``RunnelError`` when a log cannot be created.
    public init(_ configuration: RunnerConfiguration) throws(RunnelError) {
        let options = configuration.captureOptions
        input = try configuration.captureInPath.map { path throws(RunnelError) in
            try CaptureLogWriter(path: path, direction: "in", options: options)
        }
        output = try configuration.captureOutPath.map { path throws(RunnelError) in
            try CaptureLogWriter(path: path, direction: "out", options: options)
        }
    }

    /// Whether anything is captured.
    public var isActive: Bool { input != nil || output != nil }

    /// Warnings from opening the logs (torn tails that were cut off).
    public var warnings: [CaptureLogWarning] { (input?.warnings ?? []) + (output?.warnings ?? []) }

    public func received(_ envelopes: [Envelope]) { input?.append(envelopes) }
    public func sent(_ envelopes: [Envelope]) { output?.append(envelopes) }

    /// The state of each log, for the statistics file and `runnel status`.
    public var statuses: [CaptureStatus] { [input?.status, output?.status].compactMap { $0 } }

    /// Logs a warning for each log that stopped since the last call.
    public func reportStops(to logger: Logger) {
        for status in statuses {
            guard let stopped = status.stopped else { continue }
            let first = reported.withLock { $0.insert(status.log).inserted }
            if first {
                logger.warning("capture of \(status.direction == "in" ? "inputs" : "outputs") to \(status.log) stopped: \(stopped) (the stage goes on; \(status.error ?? ""))")
            }
        }
    }

    /// Writes what is queued, closes the logs and their indexes.
    public func close() async {
        await input?.close()
        await output?.close()
    }
}
