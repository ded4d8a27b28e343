/// How a capture log is written: when it rotates, how much it may buffer, how it compresses.
/// The stage flags (`--capture-max-bytes`, `--capture-max-age`) and pipeline files map onto it.
public struct CaptureOptions: Sendable, Hashable {
    /// A file is closed and the next begun once it holds this many compressed bytes (checked
    /// after each frame, so a file may exceed it by one frame).
    public var maxFileBytes: Int
    /// … or once it was begun this many seconds ago (checked before a frame is written, so an
    /// idle log does not make empty files).
    public var maxFileAgeSeconds: Double
    /// The most the writer may hold waiting for the disk, in bytes of messages. When a batch
    /// would go over it, capture stops (the link is never slowed down to wait for the disk).
    public var queueBytes: Int
    /// zstd level.
    public var level: Int

    public init(maxFileBytes: Int = 64 << 20, maxFileAgeSeconds: Double = 3600, queueBytes: Int = 32 << 20, level: Int = 1) {
        self.maxFileBytes = maxFileBytes
        self.maxFileAgeSeconds = maxFileAgeSeconds
        self.queueBytes = queueBytes
        self.level = level
    }

    /// Parses a size: `65536`, `512KiB`, `64MiB`, `1GiB` (also `K`, `M`, `G`, `KB`, `MB`, `GB`, all
    /// powers of 1024), or `nil`.
    public static func parseBytes(_ text: String) -> Int? {
        let digits = text.prefix { $0.isNumber }
        guard let value = Int(digits), value >= 0 else { return nil }
        let unit = text.dropFirst(digits.count).lowercased()
        let shift: Int? =
            switch unit {
            case "", "b": 0
            case "k", "kb", "kib": 10
            case "m", "mb", "mib": 20
            case "g", "gb", "gib": 30
            default: nil
            }
        guard let shift, value <= Int.max >> shift else { return nil }
        return value << shift
    }

    /// Parses a duration: `90`, `90s`, `15m`, `1h`, `2d`, `500ms`, in seconds, or `nil`.
    public static func parseSeconds(_ text: String) -> Double? {
        let number = text.prefix { $0.isNumber || $0 == "." }
        guard let value = Double(number), value >= 0 else { return nil }
        switch text.dropFirst(number.count) {
        case "", "s": return value
        case "ms": return value / 1000
        case "m", "min": return value * 60
        case "h": return value * 3600
        case "d": return value * 86_400
        default: return nil
        }
    }
}
