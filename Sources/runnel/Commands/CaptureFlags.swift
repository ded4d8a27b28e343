import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

/// How capture logs rotate and buffer: shared by every stage and `runnel cat --tee`.
struct CaptureRotationOptions: ParsableArguments {
    static let defaults = CaptureOptions()

    @Option(
        name: .customLong("capture-max-bytes"),
        help: .value("Start the next numbered file once one holds this much.", default: ByteSize(bytes: defaults.maxFileBytes), example: "512MiB", valueName: "size"),
        transform: ByteSize.argument("--capture-max-bytes", range: ByteSize(bytes: 1) ... .maximum))
    var maxBytes = ByteSize(bytes: defaults.maxFileBytes)

    @Option(
        name: .customLong("capture-max-age"),
        help: .value("Start the next numbered file once one is this old.", default: TimeSpan.seconds(Int(defaults.maxFileAgeSeconds)), example: "15m", valueName: "duration"),
        transform: TimeSpan.argument("--capture-max-age", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var maxAge = TimeSpan.seconds(Int(defaults.maxFileAgeSeconds))

    @Option(
        name: .customLong("capture-queue"),
        help: .value(
            "The most a capture may hold waiting for the disk; beyond it capture stops rather than slow the link.",
            default: ByteSize(bytes: defaults.queueBytes), example: "128MiB", valueName: "size"),
        transform: ByteSize.argument("--capture-queue", range: ByteSize(bytes: 1) ... .maximum))
    var queue = ByteSize(bytes: defaults.queueBytes)

    /// The options, sizes and durations parsed.
    func options() -> CaptureOptions {
        CaptureOptions(maxFileBytes: maxBytes.bytes, maxFileAgeSeconds: maxAge.seconds, queueBytes: queue.bytes)
    }
}

/// `--capture-in` and `--capture-out`, on every stage.
struct CaptureFlags: ParsableArguments {
    @Option(
        name: .customLong("capture-in"),
        help: .value(
            "Capture the inputs as received to this log (NAME.jsonl.zst: files NAME.000001.jsonl.zst, … and NAME.index.jsonl).",
            example: "in.jsonl.zst", valueName: "log"))
    var captureIn: String?

    @Option(
        name: .customLong("capture-out"),
        help: .value("Capture the outputs as sent to this log.", example: "out.jsonl.zst", valueName: "log"))
    var captureOut: String?

    /// Sets the capture fields of a runner configuration; `rotation` says how the logs rotate.
    func apply(to configuration: inout RunnerConfiguration, rotation: CaptureRotationOptions) {
        configuration.captureInPath = captureIn
        configuration.captureOutPath = captureOut
        configuration.captureOptions = rotation.options()
    }
}
