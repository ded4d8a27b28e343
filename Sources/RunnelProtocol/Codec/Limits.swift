/// The limits a reader enforces on a stream. Breaking one is an error with a status code; see
/// `Protocol/PROTOCOL.md`, "Limits".
public struct Limits: Sendable, Hashable {
    /// The longest line accepted, in bytes, newline excluded. A longer line is refused with
    /// `RESOURCE_EXHAUSTED` and skipped; the lines after it are read.
    public var maxLineBytes: Int
    /// The largest zstd window accepted, as a power of two. A frame asking for more is refused
    /// with `RESOURCE_EXHAUSTED` and ends the stream.
    public var maxWindowLog: Int

    public init(maxLineBytes: Int = 16 << 20, maxWindowLog: Int = 24) {
        self.maxLineBytes = maxLineBytes
        self.maxWindowLog = maxWindowLog
    }

    /// 16 MiB lines, 16 MiB windows.
    public static let `default` = Limits()
}
