/// What a capture log writer has done, for `runnel status` and a stage's statistics file.
public struct CaptureStatus: Sendable, Hashable, Codable {
    /// The log's name, as given (`--capture-out`).
    public var log: String
    /// `in` (inputs as received) or `out` (outputs as sent), or empty.
    public var direction: String
    /// The file being written (the last one, once stopped).
    public var file: String
    /// Data messages written to the log.
    public var messages: Int
    /// Compressed bytes written, all files together.
    public var bytes: Int
    /// Files begun (including the current one).
    public var files: Int
    /// Messages not captured since capture stopped.
    public var dropped: Int
    /// Why capture stopped (`disk full`, `queue full`, `write error`), or `nil` while it runs.
    public var stopped: String?
    /// The error behind ``stopped``, as a person can act on it.
    public var error: String?

    public init(log: String, direction: String = "") {
        self.log = log
        self.direction = direction
        file = ""
        messages = 0
        bytes = 0
        files = 0
        dropped = 0
    }

    /// `parse-enrich.000002.jsonl.zst: 1200 messages, 3.1 MiB` or `…; stopped: disk full (40 dropped)`.
    public var summary: String {
        var text = "\(file.isEmpty ? log : file): \(messages) messages, \(Self.format(bytes: bytes))"
        if let stopped { text += "; stopped: \(stopped) (\(dropped) dropped)" }
        return text
    }

    /// `512 B`, `4.0 KiB`, `3.1 MiB`.
    public static func format(bytes: Int) -> String {
        if bytes < 1024 { return "\(bytes) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }
}
