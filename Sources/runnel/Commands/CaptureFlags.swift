import ArgumentParser
import RunnelStage
import RunnelTransport

/// How capture logs rotate and buffer: shared by every stage and `runnel cat --tee`.
struct CaptureRotationOptions: ParsableArguments {
    @Option(
        name: .customLong("capture-max-bytes"),
        help: ArgumentHelp("Start the next numbered file once one holds this much (64MiB, 512KiB, 1GiB).", valueName: "size"))
    var maxBytes = "64MiB"

    @Option(
        name: .customLong("capture-max-age"),
        help: ArgumentHelp("Start the next numbered file once one is this old (90s, 15m, 1h, 1d).", valueName: "duration"))
    var maxAge = "1h"

    @Option(
        name: .customLong("capture-queue"),
        help: ArgumentHelp(
            "The most a capture may hold waiting for the disk; beyond it capture stops rather than slow the link.",
            valueName: "size"))
    var queue = "32MiB"

    func validate() throws { _ = try options() }

    /// The options, sizes and durations parsed.
    func options() throws -> CaptureOptions {
        guard let bytes = CaptureOptions.parseBytes(maxBytes), bytes > 0 else {
            throw ValidationError("--capture-max-bytes: '\(maxBytes)' is not a size (try 64MiB, 512KiB or a number of bytes)")
        }
        guard let age = CaptureOptions.parseSeconds(maxAge), age > 0 else {
            throw ValidationError("--capture-max-age: '\(maxAge)' is not a duration (try 90s, 15m, 1h)")
        }
        guard let queueBytes = CaptureOptions.parseBytes(queue), queueBytes > 0 else {
            throw ValidationError("--capture-queue: '\(queue)' is not a size (try 32MiB)")
        }
        return CaptureOptions(maxFileBytes: bytes, maxFileAgeSeconds: age, queueBytes: queueBytes)
    }
}

/// `--capture-in` and `--capture-out`, on every stage.
struct CaptureFlags: ParsableArguments {
    @Option(
        name: .customLong("capture-in"),
        help: ArgumentHelp(
            "Capture the inputs as received to this log (NAME.jsonl.zst: files NAME.000001.jsonl.zst, … and NAME.index.jsonl).",
            valueName: "log"))
    var captureIn: String?

    @Option(
        name: .customLong("capture-out"),
        help: ArgumentHelp("Capture the outputs as sent to this log.", valueName: "log"))
    var captureOut: String?

    @OptionGroup var rotation: CaptureRotationOptions

    /// Sets the capture fields of a runner configuration.
    func apply(to configuration: inout RunnerConfiguration) {
        configuration.captureInPath = captureIn
        configuration.captureOutPath = captureOut
        if let options = try? rotation.options() { configuration.captureOptions = options }
    }
}
