import RunnelProtocol
import RunnelTransport

/// How a ``StageRunner`` runs a stage. One source of truth that CLI flags, pipeline files and
/// the environment map onto; every field has a default.
public struct RunnerConfiguration: Sendable, Hashable {
    /// Inputs handled together (one call to ``Stage/handle(batch:deliver:)``). Each input's
    /// outputs are written or sent as it finishes, so with a stage that finishes inputs one by
    /// one (fetch, parse, enrich) a batch of large messages is never held whole.
    public var batchSize: Int
    /// Over a link, how long a batch of fewer than ``batchSize`` inputs waits for more before it
    /// is handled (zero: it is handled at once). For a stage whose work a batch costs about the
    /// same for one input as for many: the store, which commits (and syncs) once a batch. A
    /// filter never waits: it reads on while input is there (``FilterRunner``).
    public var batchWait: Duration = .zero
    /// Tries per message for retryable failures before it is dead-lettered.
    public var maxAttempts: Int
    /// The delay before the first retry; doubled each time, up to ``maxBackoffMs``.
    public var initialBackoffMs: Int
    public var maxBackoffMs: Int
    /// Where dead letters go: `nil` sends them downstream as `error` records (a shell pipe's
    /// end then holds them); a path appends them to that log (zstd JSON lines).
    public var deadLetterPath: String?
    /// Where the messages the next stage refused for good, or went away with every time it was
    /// sent them alone (PROTOCOL.md §7.7), are written when there is no ``deadLetterPath``:
    /// `error` records holding each, as a dead-letter log holds them, while the stage's own
    /// failures still go downstream. `nil` (and no ``deadLetterPath``): they are only logged.
    public var undeliveredPath: String? = nil
    /// Write zstd instead of plain JSON lines on the output.
    public var zstdOutput: Bool
    public var zstdLevel: Int
    public var limits: Limits
    /// Print a summary line on stderr at the end even when nothing failed.
    public var verbose: Bool
    /// Capture logs (``StageCapture``): inputs as received, outputs as sent; `nil`: none.
    public var captureInPath: String? = nil
    public var captureOutPath: String? = nil
    /// Rotation and buffering of the capture logs.
    public var captureOptions = CaptureOptions()

    public init(
        batchSize: Int = 64, maxAttempts: Int = 3, initialBackoffMs: Int = 100, maxBackoffMs: Int = 5_000,
        deadLetterPath: String? = nil, zstdOutput: Bool = false, zstdLevel: Int = 1, limits: Limits = .default,
        verbose: Bool = false
    ) {
        self.batchSize = batchSize
        self.maxAttempts = maxAttempts
        self.initialBackoffMs = initialBackoffMs
        self.maxBackoffMs = maxBackoffMs
        self.deadLetterPath = deadLetterPath
        self.zstdOutput = zstdOutput
        self.zstdLevel = zstdLevel
        self.limits = limits
        self.verbose = verbose
    }

    /// The delay before try number `attempt` + 1.
    public func backoffMs(afterAttempt attempt: Int) -> Int {
        let doubled = initialBackoffMs << min(max(attempt - 1, 0), 20)
        return min(doubled, maxBackoffMs)
    }
}
