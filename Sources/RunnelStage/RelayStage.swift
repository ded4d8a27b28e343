import RunnelProtocol

/// The identity stage: every message goes out as it came in, id included (only the link's
/// `seq` and the remaining deadline change). For tests, benchmarks, `runnel send` and `recv`.
public struct RelayStage: Stage {
    public let service: ServiceDefinition

    /// - Parameter name: the name it gives itself in `hello` and logs (`relay`, `send`, `recv`).
    public init(name: String = "relay") {
        service = ServiceDefinition(
            name: name, summary: "Passes every message on unchanged (identity stage).", accepts: ["*"], emits: ["*"])
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        Array(repeating: .forward, count: batch.count)
    }
}
