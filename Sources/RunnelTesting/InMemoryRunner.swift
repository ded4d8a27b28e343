import RunnelProtocol
import RunnelStage

/// Runs a stage in-process, over arrays of messages, with the same semantics as its socket
/// runner: accepted types, deadlines, lineage, retries with backoff and error records. For unit
/// tests of a stage without sockets or processes.
///
/// ```swift
/// let runner = InMemoryRunner(stage: ParseStage())
/// let result = await runner.run([page])
/// #expect(result.outputs.first?.type == "article.parsed")
/// ```
public struct InMemoryRunner<S: Stage>: Sendable {
    /// What came out of a run.
    public struct Result: Sendable {
        /// Every output, in input order.
        public var outputs: [Envelope]
        /// Error records for the inputs that failed.
        public var deadLetters: [Envelope]
        /// Ids of the inputs the runner would ack: all of them, once their outputs are out.
        public var acked: [String]
        /// How many retries the stage needed.
        public var retries: Int

        /// The outputs of one input.
        public func outputs(of input: Envelope) -> [Envelope] {
            outputs.filter { $0.parent == input.id || ($0.id == input.id && $0.parent == input.parent) }
        }
    }

    public let processor: StageProcessor<S>

    public init(stage: S, configuration: RunnerConfiguration = .init(initialBackoffMs: 1)) {
        processor = StageProcessor(stage: stage, configuration: configuration)
    }

    /// Runs the inputs through the stage in batches of the configured size.
    public func run(_ inputs: [Envelope]) async -> Result {
        var result = Result(outputs: [], deadLetters: [], acked: [], retries: 0)
        let size = max(processor.configuration.batchSize, 1)
        var start = 0
        while start < inputs.count {
            let batch = Array(inputs[start..<min(start + size, inputs.count)])
            start += batch.count
            for processed in await processor.process(batch.map { .init($0) }) {
                result.outputs += processed.outputs
                result.deadLetters += processed.deadLetters
                result.acked.append(processed.input.id)
                result.retries += processed.attempts - 1
            }
        }
        return result
    }
}
