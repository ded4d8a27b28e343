import RunnelProtocol

/// The part of the runtime that knows no I/O: it takes decoded inputs, calls the stage, retries
/// retryable failures with backoff, enforces deadlines, builds the outputs' envelopes (lineage)
/// and turns failures into `error` records. The filter runner and the socket runner both use it.
public struct StageProcessor<S: Stage>: Sendable {
    /// An input and when it arrived, to charge the time it was held against its deadline.
    public struct Received: Sendable {
        public var envelope: Envelope
        public var receivedAt: ContinuousClock.Instant

        public init(_ envelope: Envelope, receivedAt: ContinuousClock.Instant = .now) {
            self.envelope = envelope
            self.receivedAt = receivedAt
        }
    }

    /// What became of one input: the messages to send on, and the dead letters it produced.
    /// The input is done (ackable) once both are written.
    public struct Processed: Sendable {
        public var input: Envelope
        public var outputs: [Envelope] = []
        public var deadLetters: [Envelope] = []
        /// How many tries it took (1 when it went through the first time).
        public var attempts = 1
    }

    public let stage: S
    public let configuration: RunnerConfiguration
    private let accepts: Set<String>
    private let acceptsAll: Bool
    private let acceptsErrors: Bool

    public init(stage: S, configuration: RunnerConfiguration = .init()) {
        self.stage = stage
        self.configuration = configuration
        accepts = Set(stage.service.accepts)
        acceptsAll = accepts.contains("*")
        acceptsErrors = accepts.contains(MessageType.error)
    }

    /// Processes a batch; the result has one entry per input, in order.
    public func process(_ batch: [Received]) async -> [Processed] {
        var results = [Processed?](repeating: nil, count: batch.count)
        var pending: [Int] = []  // indexes to hand to the stage
        let now = ContinuousClock.now

        for (index, item) in batch.enumerated() {
            let message = item.envelope
            if message.type == MessageType.error && !acceptsErrors && !acceptsAll {
                // Failures from upstream travel on untouched, so a pipe's end holds them all.
                var output = message
                output.seq = nil
                results[index] = Processed(input: message, outputs: [output])
            } else if !acceptsAll && !accepts.contains(message.type) {
                let error = RunnelError(
                    .failedPrecondition,
                    "\(stage.service.name) accepts \(stage.service.accepts.joined(separator: ", ")), not \(message.type)")
                results[index] = Processed(input: message, deadLetters: [errorRecord(error, for: message)])
            } else if let remaining = remainingDeadline(message, item.receivedAt, now), remaining <= 0 {
                let error = RunnelError(
                    .deadlineExceeded, "the deadline passed \(-remaining) ms before \(stage.service.name) could start it")
                results[index] = Processed(input: message, deadLetters: [errorRecord(error, for: message)])
            } else {
                pending.append(index)
            }
        }

        var attempt = 1
        while !pending.isEmpty {
            let inputs = pending.map { batch[$0].envelope }
            let outcomes = await stage.handle(batch: inputs)
            let end = ContinuousClock.now
            var retry: [Int] = []
            for (position, index) in pending.enumerated() {
                let message = batch[index].envelope
                let outcome =
                    position < outcomes.count
                    ? outcomes[position]
                    : .fail(RunnelError(.internal, "\(stage.service.name) returned no outcome for this message"))
                switch outcome {
                case let .emit(emissions):
                    let deadline = remainingDeadline(message, batch[index].receivedAt, end)
                    let outputs = emissions.map { emission in
                        var output = message.derive(type: emission.type, body: emission.body)
                        output.deadlineMs = deadline.map { max($0, 0) }
                        return output
                    }
                    results[index] = Processed(input: message, outputs: outputs, attempts: attempt)
                case .forward:
                    var output = message
                    output.seq = nil
                    output.deadlineMs = remainingDeadline(message, batch[index].receivedAt, end).map { max($0, 0) }
                    results[index] = Processed(input: message, outputs: [output], attempts: attempt)
                case let .fail(error) where error.code.isRetryable && attempt < configuration.maxAttempts:
                    retry.append(index)
                case let .fail(error):
                    results[index] = Processed(
                        input: message, deadLetters: [errorRecord(error, for: message, attempts: attempt)],
                        attempts: attempt)
                }
            }
            pending = retry
            if !pending.isEmpty {
                try? await Task.sleep(for: .milliseconds(configuration.backoffMs(afterAttempt: attempt)))
                attempt += 1
            }
        }
        return results.map { $0! }
    }

    /// An `error` record for a message that failed here.
    public func errorRecord(_ error: RunnelError, for message: Envelope, attempts: Int = 1) -> Envelope {
        let url = Self.url(of: message)
        let record = ErrorRecord(
            error: error, stage: stage.service.name, attempt: message.attempt + attempts - 1, url: url,
            original: message)
        let body = (try? RawJSON(encoding: record)) ?? .emptyObject
        var envelope = message.derive(type: MessageType.error, body: body)
        envelope.deadlineMs = nil
        return envelope
    }

    /// An `error` record for a line that could not be decoded at all.
    public func errorRecord(_ error: RunnelError, rawLine: String) -> Envelope {
        let record = ErrorRecord(error: error, stage: stage.service.name, attempt: 1, raw: rawLine)
        return Envelope(type: MessageType.error, body: (try? RawJSON(encoding: record)) ?? .emptyObject)
    }

    private func remainingDeadline(
        _ message: Envelope, _ receivedAt: ContinuousClock.Instant, _ now: ContinuousClock.Instant
    ) -> Int64? {
        guard let deadline = message.deadlineMs else { return nil }
        let held = receivedAt.duration(to: now)
        let heldMs = held.components.seconds * 1000 + held.components.attoseconds / 1_000_000_000_000_000
        return deadline - heldMs
    }

    /// The URL a message is about, if its body has one: failures name it so a person can act.
    static func url(of message: Envelope) -> String? {
        (try? message.body.decode(BodyURL.self))?.url
    }
}

/// The `url` of any body that has one.
private struct BodyURL: Decodable {
    var url: String?
}
