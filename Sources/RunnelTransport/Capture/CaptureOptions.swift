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
}
