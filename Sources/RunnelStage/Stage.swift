import RunnelProtocol

/// A stage: it turns a batch of input messages into outputs, or fails them with a status.
///
/// The runner around it does everything else: reading and writing links, batching, acks,
/// retries of retryable codes, dead letters, deadlines and lineage (each output gets a new id,
/// `parent` = the input's id, the input's `trace`, `meta` and remaining deadline). A stage knows
/// no socket.
///
/// ```swift
/// struct Upper: MessageStage {
///     let service = ServiceDefinition(name: "upper", summary: "…", accepts: ["text"], emits: ["text"])
///     func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
///         let text = try message.body.decode(String.self)
///         return [Emission(type: "text", body: try RawJSON(encoding: text.uppercased()))]
///     }
/// }
/// ```
public protocol Stage: Sendable {
    /// The stage's name, the types it accepts and emits, and its options.
    var service: ServiceDefinition { get }

    /// Handles a batch of inputs, all of accepted types.
    /// - Returns: one outcome per input, in the same order.
    func handle(batch: [Envelope]) async -> [StageOutcome]

    /// Handles a batch of inputs and hands each input's outcome to `deliver` as soon as it is
    /// known, in any order, each index once, before returning.
    ///
    /// The runners call this one: they write (or send) an input's outputs while the rest of the
    /// batch is still being worked on, so a batch of large outputs (fetch's pages, 160 KB each
    /// and up) is never all in memory at once (issue 14). `deliver` may suspend, which holds
    /// the stage back: a runner waits there while its output is full.
    ///
    /// The default calls ``handle(batch:)`` and delivers its outcomes in order; a
    /// ``MessageStage`` delivers each message's outcome when that message is done.
    ///
    /// - Parameters:
    ///   - batch: the inputs.
    ///   - deliver: told `(index in batch, outcome)`; an index never told is taken as an
    ///     `INTERNAL` failure.
    func handle(batch: [Envelope], deliver: (Int, StageOutcome) async -> Void) async

    /// Turns a line of a pipe's input that is not a message into one, or returns `nil` (the
    /// default) to report it as an `INVALID_ARGUMENT` error record as usual.
    ///
    /// The filter runner asks only about lines that fail to decode as a message, so a stage
    /// can take plain text on stdin beside JSON lines: `runnel fetch < urls.txt` reads one bare
    /// URL a line and wraps each as a `url.requested` message. The returned envelope is handled
    /// like any decoded input (type checks, deadline, retries).
    ///
    /// ```swift
    /// func adopt(rawLine: String) -> Envelope? {
    ///     guard rawLine.hasPrefix("https://") else { return nil }
    ///     return Envelope(type: "url.requested", body: (try? RawJSON(encoding: URLRequested(url: rawLine))) ?? .null)
    /// }
    /// ```
    func adopt(rawLine: String) -> Envelope?

    /// Why a line that is no message is not adopted either, in words for its error record, when
    /// the stage can say it better than the JSON parser: fetch says a line is not a URL, or that
    /// a URL cannot hold a space. Nil (the default) keeps the parser's words.
    func unadoptedReason(rawLine: String) -> String?

    /// Called once after the last batch, when the input has ended or a stop signal ended the
    /// run: a stage that holds a resource lets it go here. `wrap` closes its child's stdin and
    /// waits for it to exit. The default does nothing.
    func finish() async
}

extension Stage {
    public func handle(batch: [Envelope], deliver: (Int, StageOutcome) async -> Void) async {
        for (index, outcome) in await handle(batch: batch).prefix(batch.count).enumerated() {
            await deliver(index, outcome)
        }
    }

    public func adopt(rawLine: String) -> Envelope? { nil }

    public func unadoptedReason(rawLine: String) -> String? { nil }

    /// The error of a line that is neither a message nor adopted, at its line: in the stage's
    /// words (``unadoptedReason(rawLine:)``), else the parser's `error`.
    func unreadable(_ rawLine: String, _ error: RunnelError, line: Int) -> RunnelError {
        (unadoptedReason(rawLine: rawLine).map { RunnelError(.invalidArgument, $0) } ?? error).at(.line(line))
    }

    public func finish() async {}
}

/// What became of one input.
public enum StageOutcome: Sendable {
    /// The input produced these outputs (possibly none).
    case emit([Emission])
    /// The input failed; a retryable code is tried again, any other is dead-lettered.
    case fail(RunnelError)
    /// Pass the input on unchanged, id included (relays and taps).
    case forward
}

/// One output message, before the runner gives it an envelope.
public struct Emission: Sendable, Hashable {
    public var type: String
    public var body: RawJSON
    /// Keys to add to the input's `meta` on this output (and so on its descendants), such as
    /// fetch's `site`. A key the input already has keeps the input's value: a stage may add
    /// metadata, never change or remove it.
    public var meta: [String: String]

    public init(type: String, body: RawJSON, meta: [String: String] = [:]) {
        self.type = type
        self.body = body
        self.meta = meta
    }

    /// An output whose body is `value`, encoded as JSON.
    public init<T: Encodable>(type: String, encoding value: T, meta: [String: String] = [:]) throws(RunnelError) {
        self.init(type: type, body: try RawJSON(encoding: value), meta: meta)
    }
}

/// A stage that handles one message at a time. The runner calls it for each input of a batch,
/// up to ``concurrency`` at once.
public protocol MessageStage: Stage {
    /// How many messages may be handled at the same time (1 unless the work waits on I/O).
    var concurrency: Int { get }

    /// Handles one input.
    /// - Throws: ``RunnelError`` with the status that says why it failed.
    func handle(_ message: Envelope) async throws(RunnelError) -> [Emission]
}

extension MessageStage {
    public var concurrency: Int { 1 }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        var outcomes = [StageOutcome?](repeating: nil, count: batch.count)
        await handle(batch: batch) { index, outcome in outcomes[index] = outcome }
        return outcomes.map { $0 ?? .fail(RunnelError(.internal, "\(service.name) returned no outcome for this message")) }
    }

    /// Handles up to ``concurrency`` messages at once and delivers each outcome when its message
    /// is done. It starts a message only within ``lookahead(concurrency:)`` positions of the oldest one not
    /// done yet, so a runner that writes outputs in input order (a filter) holds at most that
    /// many finished outcomes behind one slow message, whatever the batch size.
    public func handle(batch: [Envelope], deliver: (Int, StageOutcome) async -> Void) async {
        if concurrency <= 1 || batch.count <= 1 {
            for (index, message) in batch.enumerated() { await deliver(index, await outcome(message)) }
            return
        }
        let lookahead = Self.lookahead(concurrency: concurrency)
        await withTaskGroup(of: (Int, StageOutcome).self) { group in
            var progress = BatchProgress(count: batch.count)
            var running = 0
            func startWhatMayStart() {
                while running < concurrency, progress.next < batch.count, progress.next - progress.oldestUnfinished < lookahead {
                    let index = progress.next
                    group.addTask { (index, await self.outcome(batch[index])) }
                    progress.next += 1
                    running += 1
                }
            }
            startWhatMayStart()
            while let (index, outcome) = await group.next() {
                running -= 1
                progress.finish(index)
                startWhatMayStart()
                await deliver(index, outcome)
            }
        }
    }

    /// How far past the oldest unfinished message a batch's messages may start: twice the
    /// concurrency, so one slow message does not idle the others at once, yet an in-order
    /// writer holds at most this many outcomes (32 pages for fetch) behind it.
    static func lookahead(concurrency: Int) -> Int { concurrency > Int.max / 2 ? Int.max : concurrency * 2 }

    private func outcome(_ message: Envelope) async -> StageOutcome {
        do {
            return .emit(try await handle(message))
        } catch {
            return .fail(error)
        }
    }
}

/// Which messages of a batch have finished: where the next one to start is, and the oldest one
/// not finished yet (the one an in-order writer waits for).
struct BatchProgress {
    /// The next index to start.
    var next = 0
    /// The lowest index not finished; `count` when all are.
    private(set) var oldestUnfinished = 0
    private var finished: [Bool]

    init(count: Int) {
        finished = [Bool](repeating: false, count: count)
    }

    mutating func finish(_ index: Int) {
        finished[index] = true
        while oldestUnfinished < finished.count && finished[oldestUnfinished] { oldestUnfinished += 1 }
    }
}
