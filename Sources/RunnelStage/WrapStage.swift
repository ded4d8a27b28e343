import Logging
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Any line filter as a stage: a child process (`jq -c …`, a Python script) gets each input
/// message as one JSON line on its stdin and must answer each with exactly one line on its
/// stdout, in order. The answer is the output:
///
/// - a message (an object with `type` and `body`): sent on with a new id and the input as parent;
/// - any other JSON value: the new body, under the input's type;
/// - `null` or an empty line: no output (the input is done);
/// - not JSON: the input fails (`INVALID_ARGUMENT`);
/// - the child exits before answering: that input fails (`UNAVAILABLE`, with the exit status),
///   and the child is started again for the inputs after it;
/// - a line longer than the stage's line limit (`--max-line`): the input fails
///   (`RESOURCE_EXHAUSTED`, as an oversized line from a socket does) and the child is started
///   again for the inputs after it.
///
/// A batch is written to the child at once and its answers read as they come. A filter that
/// buffers its output (jq without `--unbuffered`, Python without `flush=True`) answers only at
/// the end of its input: when the child stays silent for ``Configuration/flushWait`` with
/// answers owed, its stdin is closed so it flushes, and its last answers are read until it
/// exits; from then on each batch runs its own child, its stdin closed once written. A child
/// must give its last answers within ``Configuration/answerTimeout`` of its stdin closing (each
/// answer restarts the clock), or it is stopped (SIGTERM, then SIGKILL) and its unanswered
/// inputs fail with `DEADLINE_EXCEEDED`.
///
/// SIGTERM and SIGINT reach the child (in its own process group): the stage drains, gives the
/// child ``Configuration/stopGrace`` to exit before SIGKILL, and the inputs it did not answer
/// fail with `CANCELLED`. At the end of the input (``finish()``) the child's stdin is closed and
/// it is given ``Configuration/stopGrace`` to exit before it is stopped. A program that cannot be started fails each input with
/// `FAILED_PRECONDITION` (`runnel wrap` checks it first and exits 127, as a shell does).
///
/// ```sh
/// runnel wrap -- jq -c --unbuffered '.body.title |= ascii_upcase'
/// runnel cat pages.jsonl.zst | runnel wrap -- jq -c .body     # buffered: answered per batch
/// ```
public final class WrapStage: Stage {
    /// How the child is run. Every field but the command has a default.
    public struct Configuration: Sendable, Hashable {
        /// The filter and its arguments (the program is looked up on `PATH`).
        public var command: [String]
        /// The longest answer line taken from the child.
        public var maxLineBytes: Int
        /// How long the child may stay silent while answers are owed before its stdin is
        /// closed, so that a filter that buffers its output flushes it.
        public var flushWait: Duration
        /// How long the child has, once its stdin is closed, between answers (and to exit).
        public var answerTimeout: Duration
        /// How long between SIGTERM and SIGKILL when a child is stopped (on SIGTERM or SIGINT,
        /// past a timeout, after a line too long), and how long it has to exit once the input
        /// has ended.
        public var stopGrace: Duration

        public static let defaultFlushWait = Duration.seconds(1)
        public static let defaultAnswerTimeout = Duration.seconds(60)
        public static let defaultStopGrace = Duration.seconds(5)

        public init(
            command: [String], maxLineBytes: Int = Limits.default.maxLineBytes, flushWait: Duration = defaultFlushWait,
            answerTimeout: Duration = defaultAnswerTimeout, stopGrace: Duration = defaultStopGrace
        ) {
            self.command = command
            self.maxLineBytes = maxLineBytes
            self.flushWait = flushWait
            self.answerTimeout = answerTimeout
            self.stopGrace = stopGrace
        }
    }

    public let service: ServiceDefinition
    public let configuration: Configuration
    private let children: WrapChildren

    /// - Parameters:
    ///   - configuration: the command and its timing.
    ///   - accepts: the types it is given (default: any).
    ///   - emits: the types it may answer with (default: any).
    ///   - logger: where a line about the child goes (a buffering filter, an exit between inputs).
    public init(
        _ configuration: Configuration, accepts: [String] = ["*"], emits: [String] = ["*"],
        logger: Logger = Logger(label: "runnel.wrap")
    ) {
        self.configuration = configuration
        children = WrapChildren(configuration: configuration, logger: logger)
        service = ServiceDefinition(
            name: "wrap", summary: "Runs \(configuration.command.joined(separator: " ")) as a stage, one line out per line in.",
            accepts: accepts, emits: emits)
    }

    /// - Parameters:
    ///   - command: the filter and its arguments.
    ///   - accepts: the types it is given (default: any).
    ///   - maxLineBytes: the longest answer line taken from the child.
    public convenience init(
        command: [String], accepts: [String] = ["*"], emits: [String] = ["*"], maxLineBytes: Int = Limits.default.maxLineBytes
    ) {
        self.init(Configuration(command: command, maxLineBytes: maxLineBytes), accepts: accepts, emits: emits)
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        let lines = batch.map { message in
            var line: [UInt8] = []
            message.appendLine(to: &line)  // with its newline
            return line
        }
        let answers = await children.answers(for: lines)
        return zip(batch, answers).map { message, answer in
            switch answer {
            case let .failed(error): return .fail(error)
            case let .line(bytes):
                do throws(RunnelError) {
                    return try outcome(for: bytes, input: message)
                } catch {
                    return .fail(error)
                }
            }
        }
    }

    /// The input has ended: closes the child's stdin and waits for it to exit (up to
    /// ``Configuration/stopGrace``, then stops it).
    public func finish() async {
        await children.finish()
    }

    private func outcome(for answer: [UInt8], input message: Envelope) throws(RunnelError) -> StageOutcome {
        let bytes = answer.filter { $0 != 0x0D }
        if bytes.isEmpty || bytes == Array("null".utf8) { return .emit([]) }
        if let envelope = try? Envelope(line: bytes) {
            return .emit([Emission(type: envelope.type, body: envelope.body)])
        }
        let body: RawJSON
        do {
            body = try RawJSON(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw RunnelError(
                .invalidArgument,
                "\(configuration.command[0]) answered with a line that is not JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        return .emit([Emission(type: message.type, body: body)])
    }
}
