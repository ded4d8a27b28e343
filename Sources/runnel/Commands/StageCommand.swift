import Foundation
import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Options every stage command shares: where it reads and writes, batching, retries, dead
/// letters and stream limits. They map onto ``RunnerConfiguration``.
struct StageOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "Where to read input: '-' (stdin), file:PATH (a log), unix:PATH, tcp://HOST:PORT or tls://HOST:PORT (listen, with acks), nats://HOST:PORT/SUBJECT (a JetStream work queue).",
            valueName: "endpoint"))
    var listen: String = "-"

    @Option(
        help: ArgumentHelp(
            "Where to write output: '-' (stdout), file:PATH (append to a log), unix:PATH, tcp://HOST:PORT or tls://HOST:PORT (connect, with acks), nats://HOST:PORT/SUBJECT (JetStream).",
            valueName: "endpoint"))
    var to: String = "-"

    @Option(
        name: .customLong("key-file"),
        help: ArgumentHelp("The shared key for TCP and TLS links (default: $RUNNEL_KEY).", valueName: "path"))
    var keyFile: String?

    @Flag(help: "Listen on TCP without a shared key (anyone who can reach the port can feed this stage).")
    var insecure = false

    @OptionGroup(title: "TLS (tls:// endpoints)") var tls: TLSOptions

    @Option(help: "Credit granted to each upstream connection (messages in flight).")
    var window: Int = 256

    @Option(name: .customLong("ack-timeout"), help: "Seconds to wait for a downstream ack before reconnecting to resend.")
    var ackTimeout: Int = 30

    @Option(name: .customLong("drain-timeout"), help: "Seconds a drain (SIGTERM) waits without any downstream ack arriving.")
    var drainTimeout: Int = 30

    @Option(
        name: .customLong("finish-timeout"),
        help: "Seconds to wait for acks without any arriving once the input has ended; 0 waits as long as it takes.")
    var finishTimeout: Int = 30

    @Option(
        help: ArgumentHelp(
            "Keep how many input lines are done end to end in this file, and resume after them (stream input, socket output).",
            valueName: "path"))
    var cursor: String?

    @Option(name: .customLong("stats-file"), help: ArgumentHelp("Write statistics (JSON) here every second, for a supervisor.", visibility: .hidden))
    var statsFile: String?

    @Option(name: .customLong("tap-socket"), help: ArgumentHelp("Serve `runnel tap` on PATH.PID.sock, for a supervisor.", visibility: .hidden))
    var tapSocket: String?

    @Flag(help: "Print the stage's service definition (name, accepted and emitted types, options) as JSON and exit.")
    var describe = false

    @Flag(help: "Write zstd instead of plain JSON lines (input is detected either way).")
    var zstd = false

    @Option(help: "zstd level for compressed output.")
    var level: Int = 1

    @Option(help: "Messages handled together.")
    var batch: Int = 64

    @Option(name: .customLong("max-attempts"), help: "Tries for a message that fails with a retryable status.")
    var maxAttempts: Int = 3

    @Option(
        name: .customLong("dead-letter"),
        help: ArgumentHelp(
            "Append failed messages to this log (zstd JSON lines) instead of sending them downstream as error records.",
            valueName: "path"))
    var deadLetter: String?

    @Flag(name: .shortAndLong, help: "Print a summary on stderr at the end even when nothing failed.")
    var verbose = false

    @OptionGroup var stream: StreamOptions

    @OptionGroup(title: "Capture") var capture: CaptureFlags

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard maxAttempts > 0 else { throw ValidationError("--max-attempts must be at least 1") }
        guard (-7...19).contains(level) else { throw ValidationError("--level must be within -7…19") }
    }

    var configuration: RunnerConfiguration {
        var configuration = RunnerConfiguration(
            batchSize: batch, maxAttempts: maxAttempts, deadLetterPath: deadLetter,
            zstdOutput: zstd || (to.hasPrefix("file:") && to.hasSuffix(".zst")), zstdLevel: level, limits: stream.limits, verbose: verbose)
        capture.apply(to: &configuration)
        return configuration
    }
}

/// The part of every stage command's help that explains delivery on a pipe.
let pipeDeliveryHelp = """
    With --listen or --to on a socket (unix: or tcp://), every message is acked
    end to end: an input is acked upstream only once its outputs were acked
    downstream, and unacked messages are resent after a reconnect. TCP links
    need a shared key (RUNNEL_KEY or --key-file).

    On stdin→stdout there are no acks: a message counts as done once its outputs
    are written, so a process that dies mid-pipe can lose what was in the pipe.
    A failed message becomes an `error` record that flows downstream (the store
    keeps it), or goes to --dead-letter; each is also reported on stderr in one
    line. SIGTERM/SIGINT: stop reading, finish the batch in hand, exit 0.
    """

extension StageOptions {
    /// The link options, endpoints parsed and the key loaded.
    func linkOptions() throws(RunnelError) -> LinkRunner<RelayStage>.Options {
        var link = LinkRunner<RelayStage>.Options()
        link.listen = try Endpoint(parsing: listen)
        link.to = try Endpoint(parsing: to)
        link.key = try SharedKey.load(file: keyFile)
        link.tls = try tls.settings(listen: link.listen, to: link.to)
        link.insecure = insecure
        link.window = max(window, 1)
        link.ackTimeout = .seconds(max(ackTimeout, 1))
        link.drainTimeout = .seconds(max(drainTimeout, 0))
        link.finishTimeout = finishTimeout > 0 ? .seconds(finishTimeout) : nil
        link.cursorPath = cursor
        link.statisticsPath = statsFile
        link.tapPath = tapSocket
        return link
    }
}

/// Runs `stage` with the command line's options: as a filter between streams, or with acks when
/// either end is a socket.
/// - Returns: the number of outputs never acked downstream (0 for a filter).
@discardableResult
func runStage<S: Stage>(_ stage: S, options: StageOptions) async throws -> Int {
    signal(SIGPIPE, SIG_IGN)
    if options.describe {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(stage.service), as: UTF8.self))
        return 0
    }
    do throws(RunnelError) {
        let link = try options.linkOptions()
        if options.cursor != nil && !(link.to.isSocket && !link.listen.isSocket) {
            throw RunnelError(
                .invalidArgument, "--cursor needs a stream input (- or file:) and a socket --to: acks tell which lines are done")
        }
        if link.listen.isSocket || link.to.isSocket {
            var linkOptions = LinkRunner<S>.Options()
            linkOptions.listen = link.listen
            linkOptions.to = link.to
            linkOptions.key = link.key
            linkOptions.tls = link.tls
            linkOptions.insecure = link.insecure
            linkOptions.window = link.window
            linkOptions.ackTimeout = link.ackTimeout
            linkOptions.drainTimeout = link.drainTimeout
            linkOptions.finishTimeout = link.finishTimeout
            linkOptions.cursorPath = link.cursorPath
            linkOptions.statisticsPath = link.statisticsPath
            linkOptions.tapPath = link.tapPath
            let runner = try LinkRunner(stage: stage, configuration: options.configuration, options: linkOptions)
            let (_, unacked) = try await runner.run()
            return unacked
        }
        let input = try openInput(options.listen)
        let output = try openOutput(options.to)
        let runner = try FilterRunner(
            stage: stage, configuration: options.configuration, input: input, output: output)
        _ = try await runner.run()
        return 0
    } catch {
        if error.code == .unavailable && options.to == "-" {
            // The reader of our stdout went away (`| head`): not our failure to report.
            throw ExitCode(0)
        }
        report(error, in: stage.service.name)
        throw ExitCode(1)
    }
}

func openInput(_ endpoint: String) throws(RunnelError) -> FileInput {
    switch try Endpoint(parsing: endpoint) {
    case let .file(path): return try FileInput(path: path)
    default: return try FileInput(path: "-")
    }
}

func openOutput(_ endpoint: String) throws(RunnelError) -> FileOutput {
    switch try Endpoint(parsing: endpoint) {
    case let .file(path): return try FileOutput(path: path, append: true)
    default: return FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10)
    }
}
