import RunnelProtocol

/// The identity stage: every message goes out as it came in (a new id, the input as parent).
/// For tests, benchmarks, and as a tap point between two stages.
public struct RelayStage: MessageStage {
    public let service = ServiceDefinition(
        name: "relay", summary: "Passes every message on unchanged (identity stage).", accepts: ["*"], emits: ["*"])

    public init() {}

    public func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        [Emission(type: message.type, body: message.body)]
    }
}
