import RunnelProtocol

/// The identity stage: every message goes out as it came in, id included (only the link's
/// `seq` and the remaining deadline change). For tests, benchmarks, `runnel send` and `recv`.
public struct RelayStage: Stage {
    public let service = ServiceDefinition(
        name: "relay", summary: "Passes every message on unchanged (identity stage).", accepts: ["*"], emits: ["*"])

    public init() {}

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        Array(repeating: .forward, count: batch.count)
    }
}
