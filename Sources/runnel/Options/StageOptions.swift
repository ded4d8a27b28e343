import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

// The options of the stage commands, in the groups `--help` shows them in: Input, Output,
// Reliability, Security, Observability. Their defaults are read from ``RunnerConfiguration`` and
// ``LinkRunner/Options``, the one place each is defined. Commands that are not stages (send, recv)
// take only the groups that apply to them.

/// The defaults the option groups below start from.
enum StageDefaults {
    static let runner = RunnerConfiguration()
    static let link = LinkRunner<RelayStage>.Options()
    static let ackTimeout = TimeSpan(link.ackTimeout)
    static let drainTimeout = TimeSpan(link.drainTimeout)
    static let finishTimeout = TimeSpan(link.finishTimeout ?? .zero)
    static let handshakeTimeout = TimeSpan(link.handshakeTimeout)
    static let idleTimeout = TimeSpan(link.idleTimeout)
    static let maxUnread = ByteSize(bytes: link.maxUnread)
    static let windowBytes = ByteSize(bytes: link.windowBytes)
}

/// Where a stage reads: `--listen`, who may connect, the credit it grants, and line limits.
struct InputOptions: ParsableArguments {
    @Option(
        help: .value(
            "Where to read: '-' (stdin), file:PATH (a log), unix:PATH, tcp://HOST:PORT or tls://HOST:PORT (listen, with acks), nats://HOST:PORT/SUBJECT (a JetStream work queue).",
            example: "unix:/tmp/rn/parse.sock", valueName: "endpoint"))
    var listen: String = "-"

    @Option(
        help: .value(
            "Credit granted to each upstream connection (messages in flight); on a nats:// input, the fetched messages held unsettled.",
            default: "\(LinkRunner<RelayStage>.Options.defaultWindow); \(LinkRunner<RelayStage>.Options.defaultNatsWindow) on nats://", example: "64"))
    var window: Int?

    @Option(
        name: .customLong("window-bytes"),
        help: .value(
            "Bytes of messages in flight per upstream connection that credit is granted for, at their average size: large messages (fetched pages) get fewer than --window in flight.",
            default: StageDefaults.windowBytes, example: "64MiB", valueName: "size"),
        transform: ByteSize.argument("--window-bytes", range: ByteSize(bytes: 1024) ... ByteSize(bytes: 1 << 30)))
    var windowBytes = StageDefaults.windowBytes

    @Option(
        name: .customLong("recent-ids"),
        help: .value(
            "Ids of finished messages remembered (about 175 bytes each): a copy an upstream link sends again is acked, not processed again; 0 turns it off.",
            example: "100000"))
    var recentIDs: Int = StageDefaults.link.recentIDs

    @Flag(help: "Listen on TCP without a shared key (anyone who can reach the port can feed this stage).")
    var insecure = false

    @Option(
        name: .customLong("handshake-timeout"),
        help: .value(
            "Close a connection whose peer has not said hello within this long (bye DEADLINE_EXCEEDED).",
            default: StageDefaults.handshakeTimeout, example: "3s", valueName: "duration"),
        transform: TimeSpan.argument("--handshake-timeout", range: .milliseconds(1) ... .maximum))
    var handshakeTimeout = StageDefaults.handshakeTimeout

    @Option(
        name: .customLong("idle-timeout"),
        help: .value(
            "Ping an upstream peer silent for a third of this long; close it (bye DEADLINE_EXCEEDED) if it answers nothing for all of it.",
            default: StageDefaults.idleTimeout, example: "2m", valueName: "duration"),
        transform: TimeSpan.argument("--idle-timeout", range: .milliseconds(3) ... .maximum))
    var idleTimeout = StageDefaults.idleTimeout

    @Option(
        name: .customLong("max-connections"),
        help: .value("Connections served at once; one more is told bye RESOURCE_EXHAUSTED.", example: "16"))
    var maxConnections: Int = StageDefaults.link.maxConnections

    @Option(
        name: .customLong("max-unread"),
        help: .value(
            "Bytes kept for a peer that does not read what it is sent (acks, pongs, replies); past it the connection is closed.",
            default: StageDefaults.maxUnread, example: "1MiB", valueName: "size"),
        transform: ByteSize.argument("--max-unread", range: ByteSize(bytes: 4096) ... ByteSize(bytes: Int(Int32.max))))
    var maxUnread = StageDefaults.maxUnread

    /// Sets who may connect to `link`'s listener, how many at once, how long they have to say
    /// hello, and how long an open link may stay silent.
    func apply<S>(to link: inout LinkRunner<S>.Options) {
        link.insecure = insecure
        link.window = window
        link.windowBytes = windowBytes.bytes
        link.recentIDs = recentIDs
        link.handshakeTimeout = handshakeTimeout.duration
        link.idleTimeout = idleTimeout.duration
        link.maxConnections = maxConnections
        link.maxUnread = maxUnread.bytes
    }

    func validate() throws {
        guard window ?? 1 > 0 else { throw ValidationError("--window must be at least 1") }
        guard recentIDs >= 0 else { throw ValidationError("--recent-ids cannot be negative (0 turns it off)") }
        guard maxConnections > 0 else { throw ValidationError("--max-connections must be at least 1") }
    }
}

/// Whether a stream is written compressed.
struct CompressionOptions: ParsableArguments {
    @Flag(help: "Write zstd instead of plain JSON lines (input is detected either way).")
    var zstd = false

    @Option(parsing: .unconditional, help: .value("zstd level for compressed output (-7…19).", example: "3"))
    var level: Int = StageDefaults.runner.zstdLevel

    func validate() throws {
        guard (-7...19).contains(level) else { throw ValidationError("--level must be within -7…19") }
    }
}

/// Where a stage writes, and how.
struct OutputOptions: ParsableArguments {
    @Option(
        help: .value(
            "Where to write: '-' (stdout), file:PATH (append to a log), unix:PATH, tcp://HOST:PORT or tls://HOST:PORT (connect, with acks), nats://HOST:PORT/SUBJECT (JetStream).",
            example: "unix:/tmp/rn/enrich.sock", valueName: "endpoint"))
    var to: String = "-"

    @Option(help: .value("Messages handled together.", example: "256"))
    var batch: Int = StageDefaults.runner.batchSize


    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
    }
}

/// How a link delivers: how long it waits for acks (while running, when draining, at the end of
/// the input), and the cursor that lets a stream input resume after what was acked.
struct DeliveryOptions: ParsableArguments {
    @Option(
        name: .customLong("ack-timeout"),
        help: .value("Wait this long for a downstream ack before reconnecting to resend.", default: StageDefaults.ackTimeout, example: "45s", valueName: "duration"),
        transform: TimeSpan.argument("--ack-timeout", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var ackTimeout = StageDefaults.ackTimeout

    @Option(
        name: .customLong("drain-timeout"),
        help: .value("On SIGTERM, finish and ack what is in hand for at most this long, then exit (what is not acked is sent again by the upstream).", default: StageDefaults.drainTimeout, example: "10s", valueName: "duration"),
        transform: TimeSpan.argument("--drain-timeout", legacyUnit: .seconds(1)))
    var drainTimeout = StageDefaults.drainTimeout

    @Option(
        name: .customLong("finish-timeout"),
        help: .value("Once the input has ended, wait this long without any ack arriving; 0s waits as long as it takes.", default: StageDefaults.finishTimeout, example: "2m", valueName: "duration"),
        transform: TimeSpan.argument("--finish-timeout", legacyUnit: .seconds(1)))
    var finishTimeout = StageDefaults.finishTimeout

    @Option(
        help: .value(
            "Keep how many input lines are done end to end in this file, and resume after them (stream input, socket output).",
            example: ".runnel/urls.cursor", valueName: "path"))
    var cursor: String?

    @Option(
        name: .customLong("max-refusals"),
        help: .value(
            "Give up the link to the next stage after it refused this many connections in a row, 5s apart (a certificate or key it does not trust, types it does not take), and exit with that status.",
            example: "3"))
    var maxRefusals: Int = StageDefaults.link.maxRefusals

    func validate() throws {
        guard maxRefusals > 0 else { throw ValidationError("--max-refusals must be at least 1") }
    }

    /// Sets the waits and the cursor of `link`.
    func apply<S>(to link: inout LinkRunner<S>.Options) {
        link.maxRefusals = maxRefusals
        link.cursorPath = cursor
        link.ackTimeout = ackTimeout.duration
        link.drainTimeout = drainTimeout.duration
        link.finishTimeout = finishTimeout > .zero ? finishTimeout.duration : nil
    }
}

/// What a stage does with a message that fails.
struct FailureOptions: ParsableArguments {
    @Option(
        name: .customLong("max-attempts"),
        help: .value("Tries for a message that fails with a retryable status.", example: "5"))
    var maxAttempts: Int = StageDefaults.runner.maxAttempts

    @Option(
        name: .customLong("dead-letter"),
        help: .value(
            "Append failed messages to this log (zstd JSON lines) instead of sending them downstream as error records.",
            example: "failed.jsonl.zst", valueName: "path"))
    var deadLetter: String?

    @Option(
        name: .customLong("undelivered"),
        help: .value(
            "Append the messages --to refused for good, or crashed on each time it was sent them alone, to this log (zstd JSON lines of error records), where no --dead-letter takes them; this stage's own failures still go downstream. Without either they are only logged.",
            example: "undelivered.jsonl.zst", valueName: "path"))
    var undelivered: String?

    func validate() throws {
        guard maxAttempts > 0 else { throw ValidationError("--max-attempts must be at least 1") }
    }
}

/// `--key-file`: the shared key every side of a tcp:// or tls:// link proves it holds.
struct KeyOption: ParsableArguments {
    @Option(
        name: .customLong("key-file"),
        help: .value(
            "The shared key for tcp:// and tls:// links (Unix sockets are guarded by their directory's permissions instead; `runnel key new` makes one).",
            default: "$RUNNEL_KEY", example: "runnel.key", valueName: "path"))
    var keyFile: String?

    func load() throws(RunnelError) -> SharedKey? { try SharedKey.load(file: keyFile) }
}

/// Who a command that only connects is (send, call, health, describe).
struct ClientSecurityOptions: ParsableArguments {
    @OptionGroup var key: KeyOption
    @OptionGroup var trust: TLSTrustOptions
    @OptionGroup var client: TLSClientOptions

    var tls: TLSSettings { TLSSettings(trust: trust, client: client) }
}

/// Who may feed a command that only listens (recv).
struct ListenerSecurityOptions: ParsableArguments {
    @OptionGroup var key: KeyOption
    @OptionGroup var trust: TLSTrustOptions
    @OptionGroup var listener: TLSListenerOptions

    var tls: TLSSettings { TLSSettings(trust: trust, listener: listener) }
}

/// What a stage tells about itself.
struct ObservabilityOptions: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print a summary on stderr at the end even when nothing failed.")
    var verbose = false

    @Flag(help: "Print the stage's service definition (name, accepted and emitted types, options) as JSON and exit.")
    var describe = false

    // Every command takes these two: main() reads them (and RUNNEL_LOG_LEVEL, RUNNEL_LOG_FORMAT)
    // and takes them off the command line before it is parsed (see LogSettings), so they are
    // declared here only for `--help`, and always hold their defaults.
    @Option(
        name: .customLong("log-level"),
        help: .value("Drop log messages below this level (or $RUNNEL_LOG_LEVEL).", example: "debug", valueName: "level"))
    var logLevel: LogLevel = .info

    @Option(
        name: .customLong("log-format"),
        help: .value("How log lines read: runnel STAGE: message, or one JSON object per line (or $RUNNEL_LOG_FORMAT).", example: "json", valueName: "format"))
    var logFormat: LogFormat = .text
}

/// What a supervisor asks of the processes it starts (hidden from `--help`).
struct SupervisedOptions: ParsableArguments {
    @Option(name: .customLong("stats-file"), help: ArgumentHelp("Write statistics (JSON) here every second, for a supervisor.", visibility: .hidden))
    var statsFile: String?

    @Option(name: .customLong("tap-socket"), help: ArgumentHelp("Serve `runnel tap` on PATH.PID.sock, for a supervisor.", visibility: .hidden))
    var tapSocket: String?

    /// Sets where `link` reports its statistics and serves taps.
    func apply<S>(to link: inout LinkRunner<S>.Options) {
        link.statisticsPath = statsFile
        link.tapPath = tapSocket
    }
}

/// Every option of a stage command (fetch, parse, enrich, store, wrap, relay), grouped.
///
/// Each stage command declares the groups itself (``StageOptionGroups``) and reads them through
/// this value: swift-argument-parser checks every group again for each level above it in a debug
/// build, so holding them in one more group cost a stage ~0.3 s of CPU at each start, and a
/// supervisor restarts stages often.
struct StageOptions {
    var input: InputOptions
    var stream: StreamOptions
    var output: OutputOptions
    var compression: CompressionOptions
    var delivery: DeliveryOptions
    var failures: FailureOptions
    var key: KeyOption
    var trust: TLSTrustOptions
    var listener: TLSListenerOptions
    var client: TLSClientOptions
    var observability: ObservabilityOptions
    var capture: CaptureFlags
    var rotation: CaptureRotationOptions
    var supervised: SupervisedOptions
    /// ``RunnerConfiguration/batchWait``: a command's own option (the store's `--batch-wait`).
    var batchWait: Duration = .zero

    var tls: TLSSettings { TLSSettings(trust: trust, listener: listener, client: client) }

    var listen: String {
        get { input.listen }
        set { input.listen = newValue }
    }
    var to: String {
        get { output.to }
        set { output.to = newValue }
    }
    var maxAttempts: Int { failures.maxAttempts }

    var configuration: RunnerConfiguration {
        var configuration = RunnerConfiguration(
            batchSize: output.batch, maxAttempts: failures.maxAttempts, deadLetterPath: failures.deadLetter,
            zstdOutput: compression.zstd || (output.to.hasPrefix("file:") && output.to.hasSuffix(".zst")),
            zstdLevel: compression.level, limits: stream.limits, verbose: observability.verbose)
        configuration.batchWait = batchWait
        configuration.undeliveredPath = failures.undelivered
        capture.apply(to: &configuration, rotation: rotation)
        return configuration
    }

    /// The link options, endpoints parsed and the key loaded.
    func linkOptions<S>(for stage: S.Type = S.self) throws(RunnelError) -> LinkRunner<S>.Options {
        var link = LinkRunner<S>.Options()
        link.listen = try Endpoint(parsing: input.listen)
        link.to = try Endpoint(parsing: output.to)
        link.key = try key.load()
        link.tls = try tls.checked(listen: link.listen, to: link.to)
        input.apply(to: &link)
        delivery.apply(to: &link)
        supervised.apply(to: &link)
        return link
    }
}

/// A stage command: it holds every stage option group directly (one level below the command;
/// see ``StageOptions`` for why) and reads them as one ``StageOptions``.
///
/// Each command declares, in this order and with these titles:
///
///     @OptionGroup(title: "Input") var input: InputOptions
///     @OptionGroup(title: "Input") var stream: StreamOptions
///     @OptionGroup(title: "Output") var output: OutputOptions
///     @OptionGroup(title: "Output") var compression: CompressionOptions
///     @OptionGroup(title: "Reliability") var delivery: DeliveryOptions
///     @OptionGroup(title: "Reliability") var failures: FailureOptions
///     @OptionGroup(title: "Security") var key: KeyOption
///     @OptionGroup(title: "Security") var trust: TLSTrustOptions
///     @OptionGroup(title: "Security") var listener: TLSListenerOptions
///     @OptionGroup(title: "Security") var client: TLSClientOptions
///     @OptionGroup(title: "Observability") var observability: ObservabilityOptions
///     @OptionGroup(title: "Observability") var capture: CaptureFlags
///     @OptionGroup(title: "Observability") var rotation: CaptureRotationOptions
///     @OptionGroup var supervised: SupervisedOptions
protocol StageOptionGroups {
    var input: InputOptions { get }
    var stream: StreamOptions { get }
    var output: OutputOptions { get }
    var compression: CompressionOptions { get }
    var delivery: DeliveryOptions { get }
    var failures: FailureOptions { get }
    var key: KeyOption { get }
    var trust: TLSTrustOptions { get }
    var listener: TLSListenerOptions { get }
    var client: TLSClientOptions { get }
    var observability: ObservabilityOptions { get }
    var capture: CaptureFlags { get }
    var rotation: CaptureRotationOptions { get }
    var supervised: SupervisedOptions { get }
}

extension StageOptionGroups {
    var runtime: StageOptions {
        StageOptions(
            input: input, stream: stream, output: output, compression: compression, delivery: delivery, failures: failures,
            key: key, trust: trust, listener: listener, client: client, observability: observability, capture: capture,
            rotation: rotation, supervised: supervised)
    }
}
