import RunnelTransport

extension Status {
    /// The captured links under the stage table: `capture parse (out): FILE: 1200 messages, 3.1 MiB`,
    /// and `stopped: disk full (40 dropped)` when a capture stopped.
    static func captureLines(_ reply: [String: Any]) -> String {
        var text = ""
        for stage in reply["stages"] as? [[String: Any]] ?? [] {
            for capture in stage["capture"] as? [[String: Any]] ?? [] {
                var status = CaptureStatus(log: capture["log"] as? String ?? "", direction: capture["direction"] as? String ?? "")
                status.file = capture["file"] as? String ?? ""
                status.messages = capture["messages"] as? Int ?? 0
                status.bytes = capture["bytes"] as? Int ?? 0
                status.dropped = capture["dropped"] as? Int ?? 0
                status.stopped = capture["stopped"] as? String
                text += "capture \(stage["name"] ?? "?") (\(status.direction)): \(status.summary)\n"
                if let error = capture["error"] as? String { text += "  \(error)\n" }
            }
        }
        return text
    }
}
