import ArgumentParser
import RunnelProtocol
import RunnelStage

struct Relay: AsyncParsableCommand, StageOptionGroups {
    static let configuration = CommandConfiguration(
        commandName: "relay",
        abstract: "Pass every message on unchanged: the identity stage, for tests and benchmarks.",
        discussion: """
            Each output gets a new id, the input's id as parent, and the input's trace, \
            meta and remaining deadline, like any stage's output.

              runnel cat log.jsonl.zst | runnel relay --zstd > copy.jsonl.zst

            \(pipeDeliveryHelp)
            """
    )

    @Option(
        help: .value("Spend this long on each message: a slow stage, for tests and demos.", default: TimeSpan.zero, example: "20ms", valueName: "duration"),
        transform: TimeSpan.argument("--delay"))
    var delay = TimeSpan.zero

    @Option(name: .customLong("delay-ms"), help: .hidden) var delayMs: Int?

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

    func run() async throws {
        let delay = try Deprecation.renamed("--delay-ms", delayMs, unit: .milliseconds(1), now: "--delay") ?? delay
        try await runStage(RelayStage(delay: delay.duration), options: runtime)
    }
}
