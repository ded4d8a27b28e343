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
    @Option(help: ArgumentHelp("Where to read input: '-' (stdin) or file:PATH (a log).", valueName: "endpoint"))
    var listen: String = "-"

    @Option(help: ArgumentHelp("Where to write output: '-' (stdout) or file:PATH (a log).", valueName: "endpoint"))
    var to: String = "-"

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

    func validate() throws {
        guard batch > 0 else { throw ValidationError("--batch must be at least 1") }
        guard maxAttempts > 0 else { throw ValidationError("--max-attempts must be at least 1") }
        guard (-7...19).contains(level) else { throw ValidationError("--level must be within -7…19") }
    }

    var configuration: RunnerConfiguration {
        RunnerConfiguration(
            batchSize: batch, maxAttempts: maxAttempts, deadLetterPath: deadLetter,
            zstdOutput: zstd || to.hasPrefix("file:"), zstdLevel: level, limits: stream.limits, verbose: verbose)
    }
}

/// The part of every stage command's help that explains delivery on a pipe.
let pipeDeliveryHelp = """
    On stdin→stdout there are no acks: a message counts as done once its outputs are written,
    so a process that dies mid-pipe can lose what was in the pipe. A failed message becomes an
    `error` record that flows downstream (the store keeps it), or goes to --dead-letter; each is
    also reported on stderr in one line. SIGTERM/SIGINT: stop reading, finish the batch in hand,
    exit 0.
    """

/// Runs `stage` with the command line's options, as a filter between two endpoints.
func runStage(_ stage: some Stage, options: StageOptions) async throws {
    signal(SIGPIPE, SIG_IGN)
    do throws(RunnelError) {
        let input = try openInput(options.listen)
        let output = try openOutput(options.to)
        let runner = try FilterRunner(
            stage: stage, configuration: options.configuration, input: input, output: output)
        _ = try await runner.run()
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
    if endpoint == "-" { return try FileInput(path: "-") }
    if endpoint.hasPrefix("file:") { return try FileInput(path: String(endpoint.dropFirst(5))) }
    throw RunnelError(
        .unimplemented,
        "endpoint \(endpoint) is not supported by this build yet; use '-' or file:PATH (sockets come with the transport)")
}

func openOutput(_ endpoint: String) throws(RunnelError) -> FileOutput {
    if endpoint == "-" { return FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10) }
    if endpoint.hasPrefix("file:") { return try FileOutput(path: String(endpoint.dropFirst(5)), append: true) }
    throw RunnelError(
        .unimplemented,
        "endpoint \(endpoint) is not supported by this build yet; use '-' or file:PATH (sockets come with the transport)")
}
