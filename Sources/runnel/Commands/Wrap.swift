import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

struct Wrap: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "wrap",
        abstract: "Make any line filter a stage: one JSON line in, exactly one line out, in order.",
        discussion: """
            Starts COMMAND and hands it each input message as a JSON line on its stdin; its \
            answer line is the output. A message (with type and body) goes on with a new id and \
            the input as parent; any other JSON value becomes the body under the input's type; \
            null or an empty line means no output. A filter that flushes each line (jq: \
            --unbuffered; Python: flush=True) runs once for the whole input. One that buffers \
            its output is given end of file when it stays silent for --flush-wait with answers \
            owed, answers then, and from there on runs once per batch.

            SIGTERM and SIGINT are passed on to COMMAND; at the end of the input its stdin is \
            closed and it is waited for. A COMMAND that is not found exits 127, one that cannot \
            be executed 126, as in a shell.

              runnel wrap -- jq -c --unbuffered '.body.title |= ascii_upcase'
              runnel wrap --listen fd:3 --to unix:/tmp/rn/next.sock -- python3 tag.py
            """
    )

    /// The stage's defaults, defined once in ``WrapStage/Configuration``.
    static let defaults = WrapStage.Configuration(command: [])

    @OptionGroup(title: "Input") var input: InputOptions
    @OptionGroup(title: "Input") var stream: StreamOptions
    @OptionGroup(title: "Output") var output: OutputOptions
    @OptionGroup(title: "Output") var compression: CompressionOptions
    @OptionGroup(title: "Reliability") var delivery: DeliveryOptions
    @OptionGroup(title: "Reliability") var failures: FailureOptions
    @OptionGroup(title: "Security") var key: KeyOption
    @OptionGroup(title: "Security") var trust: TLSTrustOptions
    @OptionGroup(title: "Security") var listener: TLSListenerOptions
    @OptionGroup(title: "Security") var client: TLSClientOptions
    @OptionGroup(title: "Observability") var observability: ObservabilityOptions
    @OptionGroup(title: "Observability") var capture: CaptureFlags
    @OptionGroup(title: "Observability") var rotation: CaptureRotationOptions
    @OptionGroup var supervised: SupervisedOptions

    @Option(
        name: .customLong("flush-wait"),
        help: .value(
            "How long COMMAND may stay silent with answers owed before its stdin is closed so that it flushes.",
            default: TimeSpan(defaults.flushWait), example: "200ms", valueName: "duration"),
        transform: TimeSpan.argument("--flush-wait", range: .milliseconds(1) ... .maximum))
    var flushWait = TimeSpan(defaults.flushWait)

    @Option(
        name: .customLong("answer-timeout"),
        help: .value(
            "Once its stdin is closed, how long COMMAND may take over each answer and to exit before it is stopped.",
            default: TimeSpan(defaults.answerTimeout), example: "5m", valueName: "duration"),
        transform: TimeSpan.argument("--answer-timeout", range: .milliseconds(1) ... .maximum))
    var answerTimeout = TimeSpan(defaults.answerTimeout)

    @Argument(parsing: .postTerminator, help: "The filter and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the filter after --, e.g. runnel wrap -- jq -c --unbuffered .") }
    }

    func run() async throws {
        if !observability.describe {
            // As a shell would: 127 for a command that is not there, 126 for one it cannot run.
            do throws(ProcessError) {
                _ = try ChildProcess.resolve(command[0])
            } catch {
                Standard.error("runnel wrap: \(error.message)\n")
                throw ExitCode(error.shellStatus)
            }
        }
        let configuration = WrapStage.Configuration(
            command: command, maxLineBytes: runtime.stream.limits.maxLineBytes, flushWait: flushWait.duration,
            answerTimeout: answerTimeout.duration)
        try await runStage(WrapStage(configuration), options: runtime)
    }
}
