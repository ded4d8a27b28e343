/// How fast a pipeline moves, from two successive ``PipelineStatus`` snapshots: messages per
/// second in and out of each stage, errors per second, restarts in between; for `runnel top`.
///
/// A count that went down between the snapshots started again from zero (the stage restarted
/// and its new process counts anew), so what it shows now is what happened since, as
/// Prometheus' `rate()` treats a counter reset. A stage missing from the first snapshot counts
/// from zero.
///
/// ```swift
/// let rates = PipelineRates(from: earlier, to: now, over: .seconds(1))
/// rates.stages.first { $0.name == "parse" }?.receivedPerSecond   // 118.0
/// ```
public struct PipelineRates: Codable, Sendable, Equatable {
    /// Seconds between the snapshots.
    public var intervalSeconds: Double
    /// Source lines done end to end, per second.
    public var donePerSecond: Double
    /// Lines the last stage wrote, per second.
    public var outputsPerSecond: Double
    public var stages: [Stage]

    /// One stage's rates.
    public struct Stage: Codable, Sendable, Equatable {
        public var name: String
        /// Messages received and emitted per second; `nil` when the stage reports no counts.
        public var receivedPerSecond: Double?
        public var emittedPerSecond: Double?
        public var errorsPerSecond: Double?
        /// Restarts between the snapshots.
        public var restarts: Int

        public init(name: String, receivedPerSecond: Double?, emittedPerSecond: Double?, errorsPerSecond: Double?, restarts: Int) {
            self.name = name
            self.receivedPerSecond = receivedPerSecond
            self.emittedPerSecond = emittedPerSecond
            self.errorsPerSecond = errorsPerSecond
            self.restarts = restarts
        }

        enum CodingKeys: String, CodingKey {
            case name, restarts
            case receivedPerSecond = "in_per_s"
            case emittedPerSecond = "out_per_s"
            case errorsPerSecond = "errors_per_s"
        }
    }

    enum CodingKeys: String, CodingKey {
        case stages
        case intervalSeconds = "interval_s"
        case donePerSecond = "done_per_s"
        case outputsPerSecond = "outputs_per_s"
    }

    /// The rates between `earlier` and `later`, taken `interval` apart (0 per second when the
    /// interval is not positive).
    public init(from earlier: PipelineStatus, to later: PipelineStatus, over interval: Duration) {
        let (whole, fraction) = interval.components
        let seconds = Double(whole) + Double(fraction) * 1e-18
        intervalSeconds = seconds
        func rate(_ before: Int?, _ after: Int?) -> Double? {
            guard let after else { return nil }
            let before = before ?? 0
            let increase = after >= before ? after - before : after  // a reset: counted from zero
            return seconds > 0 ? Double(increase) / seconds : 0
        }
        donePerSecond = rate(earlier.done, later.done) ?? 0
        outputsPerSecond = rate(earlier.outputs, later.outputs) ?? 0
        stages = later.stages.map { stage in
            let before = earlier.stages.first { $0.name == stage.name }
            return Stage(
                name: stage.name, receivedPerSecond: rate(before?.received, stage.received),
                emittedPerSecond: rate(before?.emitted, stage.emitted), errorsPerSecond: rate(before?.errors, stage.errors),
                restarts: max(stage.restarts - (before?.restarts ?? 0), 0))
        }
    }
}
