import ArgumentParser
import RunnelStage

struct Wrap: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        abstract: "Make any line filter a stage: one JSON line in, exactly one line out, in order.",
        discussion: """
            Starts COMMAND once and hands it each input message as a JSON line on its stdin; its \
            answer line is the output. A message (with type and body) goes on with a new id and \
            the input as parent; any other JSON value becomes the body under the input's type; \
            null or an empty line means no output. Inputs are acked as their answers arrive, so \
            the filter must answer every line and flush (jq: --unbuffered; Python: flush=True).

              runnel wrap -- jq -c --unbuffered '.body.title |= ascii_upcase'
              runnel wrap --listen fd:3 --to unix:/tmp/rn/next.sock -- python3 tag.py
            """
    )

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

    @Argument(parsing: .postTerminator, help: "The filter and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the filter after --, e.g. runnel wrap -- jq -c --unbuffered .") }
    }

    func run() async throws {
        try await runStage(WrapStage(command: command, maxLineBytes: runtime.stream.limits.maxLineBytes), options: runtime)
    }
}
