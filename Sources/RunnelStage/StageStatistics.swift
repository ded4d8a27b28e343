import RunnelProtocol

/// Counters a runner keeps: what came in, what went out, what failed and why.
public struct StageStatistics: Sendable, Hashable {
    public var received = 0
    public var emitted = 0
    public var passedThrough = 0
    public var retried = 0
    public var failed: [StatusCode: Int] = [:]

    public var failedTotal: Int { failed.values.reduce(0, +) }

    /// `parse: 120 in, 118 out, 2 dead-lettered (INVALID_ARGUMENT 2)`.
    public func summary(stage: String) -> String {
        var text = "\(stage): \(received) in, \(emitted) out"
        if passedThrough > 0 { text += ", \(passedThrough) error records passed through" }
        if retried > 0 { text += ", \(retried) retries" }
        if failedTotal > 0 {
            let codes = failed.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.name) \($0.value)" }
            text += ", \(failedTotal) failed (\(codes.joined(separator: ", ")))"
        }
        return text
    }
}
