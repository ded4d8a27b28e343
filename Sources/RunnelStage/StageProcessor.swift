import RunnelProtocol
import RunnelTransport

/// The part of the runtime that knows no I/O: it takes decoded inputs, calls the stage, retries
/// retryable failures with backoff, enforces deadlines, builds the outputs' envelopes (lineage)
/// and turns failures into `error` records. The filter runner and the socket runner both use it.
///
/// A stage's errors say what happened; what happens next is the runtime's to say: before each
/// retry it tells ``onRetry`` (the runners log ``Retry/description``), and a failure that ends
/// in an `error` record carries its attempt count.
public struct StageProcessor<S: Stage>: Sendable {
    /// Messages that failed with a retryable status and are about to be tried again.
    public struct Retry: Sendable {
        /// What they failed with (the first such error, when several messages failed alike).
        public var error: RunnelError
        /// How many messages of the batch failed with it.
        public var count: Int
        /// The try about to be made (2 for the first retry).
        public var attempt: Int
        /// ``RunnerConfiguration/maxAttempts``.
        public var maxAttempts: Int
        /// How long the processor waits before that try.
        public var delay: Duration

        /// A retry report.
        public init(error: RunnelError, count: Int, attempt: Int, maxAttempts: Int, delay: Duration) {
            self.error = error
            self.count = count
            self.attempt = attempt
            self.maxAttempts = maxAttempts
            self.delay = delay
        }

        /// `UNAVAILABLE: … ; retrying 3 messages in 200 ms (attempt 2 of 3)`.
        public var description: String {
            let what = count == 1 ? "" : " \(count) messages"
            return "\(error.code.name): \(error.message); retrying\(what) in \(Self.text(delay)) (attempt \(attempt) of \(maxAttempts))"
        }

        /// `200 ms`, `2 s`, `2.5 s`.
        static func text(_ duration: Duration) -> String {
            let ms = duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
            if ms < 1000 { return "\(ms) ms" }
            return ms % 1000 == 0 ? "\(ms / 1000) s" : "\(Double(ms) / 1000) s"
        }
    }

    /// An input and when it arrived (``ReceivedMessage``).
    public typealias Received = ReceivedMessage
    /// What became of one input (``ProcessedMessage``).
    public typealias Processed = ProcessedMessage

    public let stage: S
    public let configuration: RunnerConfiguration
    /// Told before each retry, once per distinct error; `nil`: retries go unreported.
    public let onRetry: (@Sendable (Retry) -> Void)?
    private let accepts: Set<String>
    private let acceptsAll: Bool
    private let acceptsErrors: Bool

    public init(
        stage: S, configuration: RunnerConfiguration = .init(), onRetry: (@Sendable (Retry) -> Void)? = nil
    ) {
        self.stage = stage
        self.configuration = configuration
        self.onRetry = onRetry
        accepts = Set(stage.service.accepts)
        acceptsAll = accepts.contains("*")
        acceptsErrors = accepts.contains(MessageType.error)
    }

    /// Processes a batch; the result has one entry per input, in order.
    public func process(_ batch: [Received]) async -> [Processed] {
        var results = [Processed?](repeating: nil, count: batch.count)
        await process(batch) { index, result in results[index] = result }
        return results.map { $0! }
    }

    /// Processes a batch and hands each input's result to `deliver` as soon as it is final, in
    /// any order, each index once, before returning.
    ///
    /// A result is final when its input produced outputs, was passed on, or failed for good; an
    /// input that failed with a retryable status is tried again after the backoff, with the
    /// others that did, once the stage has delivered the rest of the batch. So the results of
    /// one batch are not all alive at once: a runner writes each as it comes (issue 14).
    ///
    /// - Parameters:
    ///   - batch: the inputs.
    ///   - deliver: told `(index in batch, result)`; it may suspend (a full output), which holds
    ///     the stage back.
    public func process(_ batch: [Received], deliver: (Int, Processed) async -> Void) async {
        var pending: [Int] = []  // indexes to hand to the stage
        let now = ClockReading.now

        for (index, item) in batch.enumerated() {
            let message = item.envelope
            if message.type == MessageType.error && !acceptsErrors && !acceptsAll {
                // Failures from upstream travel on untouched, so a pipe's end holds them all.
                var output = message
                output.seq = nil
                await deliver(index, Processed(input: message, outputs: [output]))
            } else if !acceptsAll && !accepts.contains(message.type) {
                let error = RunnelError(
                    .failedPrecondition,
                    "\(stage.service.name) accepts \(stage.service.accepts.joined(separator: ", ")), not \(message.type)")
                await deliver(index, Processed(input: message, deadLetters: [errorRecord(error, for: message)]))
            } else if let remaining = remainingDeadline(message, item.arrival, now), remaining <= 0 {
                let error = RunnelError(
                    .deadlineExceeded, "the deadline passed \(-remaining) ms before \(stage.service.name) could start it")
                await deliver(index, Processed(input: message, deadLetters: [errorRecord(error, for: message)]))
            } else {
                pending.append(index)
            }
        }

        var attempt = 1
        while !pending.isEmpty {
            let inputs = pending.map { batch[$0].envelope }
            var told = [Bool](repeating: false, count: pending.count)
            var retry: [Int] = []
            var retrying: [Retry] = []
            await stage.handle(batch: inputs) { position, outcome in
                guard position >= 0, position < pending.count, !told[position] else { return }
                told[position] = true
                let index = pending[position]
                switch result(of: outcome, for: batch[index], attempt: attempt) {
                case let .final(processed):
                    await deliver(index, processed)
                case let .retry(error):
                    retry.append(index)
                    if let same = retrying.firstIndex(where: { $0.error.code == error.code && $0.error.message == error.message }) {
                        retrying[same].count += 1
                    } else {
                        retrying.append(
                            Retry(error: error, count: 1, attempt: attempt + 1, maxAttempts: configuration.maxAttempts, delay: .zero))
                    }
                }
            }
            for (position, index) in pending.enumerated() where !told[position] {
                let message = batch[index].envelope
                let error = RunnelError(.internal, "\(stage.service.name) returned no outcome for this message")
                await deliver(
                    index,
                    Processed(input: message, deadLetters: [errorRecord(error, for: message, attempts: attempt)], attempts: attempt))
            }
            // In input order, as the stage was given them, whatever order they failed in.
            pending = retry.sorted()
            if !pending.isEmpty {
                let delay = Duration.milliseconds(configuration.backoffMs(afterAttempt: attempt))
                if let onRetry {
                    for var retry in retrying {
                        retry.delay = delay
                        onRetry(retry)
                    }
                }
                try? await Task.sleep(for: delay)
                attempt += 1
            }
        }
    }

    /// What one outcome makes of its input: a final result, or a failure to try again.
    private enum Resolution {
        case final(Processed)
        case retry(RunnelError)
    }

    /// Turns a stage's outcome into the input's result: outputs with their envelopes (lineage,
    /// meta, the deadline left now), or an error record, or a retry while attempts are left.
    private func result(of outcome: StageOutcome, for item: Received, attempt: Int) -> Resolution {
        let message = item.envelope
        switch outcome {
        case let .emit(emissions):
            let deadline = remainingDeadline(message, item.arrival, .now)
            let outputs = emissions.map { emission in
                var output = message.derive(type: emission.type, body: emission.body)
                if !emission.meta.isEmpty {
                    output.meta.merge(emission.meta) { inherited, _ in inherited }
                }
                output.deadlineMs = deadline.map { max($0, 0) }
                return output
            }
            return .final(Processed(input: message, outputs: outputs, attempts: attempt))
        case .forward:
            var output = message
            output.seq = nil
            output.deadlineMs = remainingDeadline(message, item.arrival, .now).map { max($0, 0) }
            return .final(Processed(input: message, outputs: [output], attempts: attempt))
        case let .fail(error) where error.code.isRetryable && attempt < configuration.maxAttempts:
            return .retry(error)
        case let .fail(error):
            return .final(
                Processed(input: message, deadLetters: [errorRecord(error, for: message, attempts: attempt)], attempts: attempt))
        }
    }

    /// An `error` record for a message that failed here.
    public func errorRecord(_ error: RunnelError, for message: Envelope, attempts: Int = 1) -> Envelope {
        let url = Self.url(of: message)
        var counted = message  // the attempts made here counted on from the message's, to Int.max at most
        counted.countAttempts(attempts - 1)
        let record = ErrorRecord(error: error, stage: stage.service.name, attempt: counted.attempt, url: url, original: message)
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
        _ message: Envelope, _ arrival: ClockReading, _ now: @autoclosure () -> ClockReading
    ) -> Int64? {
        guard let deadline = message.deadlineMs else { return nil }
        let held = arrival.duration(to: now())
        let heldMs = held.components.seconds * 1000 + held.components.attoseconds / 1_000_000_000_000_000
        return deadline - heldMs
    }

    /// The URL a message is about, if its body has one: failures name it so a person can act.
    static func url(of message: Envelope) -> String? {
        (try? message.body.decode(BodyURL.self))?.url
    }
}

/// An input and when it arrived, to charge the time it was held against its deadline.
///
/// Not nested in the generic ``StageProcessor``: a runner holds one per message, and a type
/// nested in a generic one is generic itself, so every array of them in the runner's
/// unspecialised code cost a metadata lookup and witness calls (issue 14).
public struct ReceivedMessage: Sendable {
    public var envelope: Envelope
    /// When it came: a ``ClockReading``, which, unlike a `ContinuousClock.Instant`, leaves this
    /// struct (and every job and array that holds one) a fixed layout to copy.
    public var arrival: ClockReading

    public var receivedAt: ContinuousClock.Instant { arrival.instant }

    public init(_ envelope: Envelope, receivedAt: ContinuousClock.Instant = .now) {
        self.init(envelope, arrival: ClockReading(receivedAt))
    }

    public init(_ envelope: Envelope, arrival: ClockReading) {
        self.envelope = envelope
        self.arrival = arrival
    }
}

/// What became of one input: the messages to send on, and the dead letters it produced.
/// The input is done (ackable) once both are written.
public struct ProcessedMessage: Sendable {
    public var input: Envelope
    public var outputs: [Envelope] = []
    public var deadLetters: [Envelope] = []
    /// How many tries it took (1 when it went through the first time).
    public var attempts = 1
}

/// The `url` of any body that has one.
private struct BodyURL: Decodable {
    var url: String?
}

extension ErrorRecord {
    /// What the runtime did about this failure, for the log line that reports it: for a
    /// retryable status, that it gave up (`; gave up after 3 attempts`); nothing for a final one.
    var outcome: String {
        guard code.isRetryable else { return "" }
        return attempt == 1 ? "; gave up after 1 attempt" : "; gave up after \(attempt) attempts"
    }
}
