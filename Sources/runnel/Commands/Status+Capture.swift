import RunnelSupervisor
import RunnelTransport

extension Status {
    /// The captured links under the stage table: `capture parse (out): FILE: 1200 messages, 3.1 MiB`,
    /// and `stopped: disk full (40 dropped)` when a capture stopped.
    static func captureLines(_ status: PipelineStatus) -> String {
        var text = ""
        for stage in status.stages {
            for capture in stage.capture ?? [] {
                text += "capture \(stage.name) (\(capture.direction)): \(capture.summary)\n"
                if let error = capture.error { text += "  \(error)\n" }
            }
        }
        return text
    }
}
