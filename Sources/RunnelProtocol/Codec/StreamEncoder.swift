/// Writes lines as a link, a log or stdout carries them: plain JSON lines, or one zstd stream
/// flushed per batch.
///
/// ```swift
/// let encoder = StreamEncoder(format: .zstd(level: 1))
/// encoder.append(envelope)
/// let bytes = try encoder.flush()   // write these; the peer can decode them all now
/// ```
public final class StreamEncoder {
    public enum Format: Sendable, Hashable {
        case plain
        case zstd(level: Int)
    }

    public let format: Format
    /// Lines appended since the last flush, uncompressed.
    public private(set) var pending: [UInt8] = []
    private let compressor: ZstdCompressor?

    public init(format: Format) {
        self.format = format
        if case let .zstd(level) = format {
            compressor = ZstdCompressor(level: level)
        } else {
            compressor = nil
        }
        pending.reserveCapacity(64 << 10)
    }

    /// Bytes waiting for the next flush.
    public var pendingCount: Int { pending.count }

    public func append(_ envelope: Envelope) { envelope.appendLine(to: &pending) }
    /// Appends a message with `seq` in place of its own (`nil`: none).
    public func append(_ envelope: Envelope, seq: UInt64?) { envelope.appendLine(to: &pending, seq: seq) }
    public func append(_ control: ControlMessage) { control.appendLine(to: &pending) }
    public func append(_ line: WireLine) { line.appendLine(to: &pending) }

    /// Appends a line given as bytes; a newline is added when missing.
    public func append(line: UnsafeBufferPointer<UInt8>) {
        pending.append(contentsOf: line)
        if line.last != 0x0A { pending.append(0x0A) }
    }

    /// The bytes to write for everything appended so far, decodable at once by the peer.
    /// - Parameter endFrame: for zstd, close the frame (a log writes one frame per batch).
    public func flush(endFrame: Bool = false) throws(RunnelError) -> [UInt8] {
        var out: [UInt8] = []
        try flush(endFrame: endFrame, into: &out)
        return out
    }

    /// Appends the bytes to write to `out`.
    public func flush(endFrame: Bool = false, into out: inout [UInt8]) throws(RunnelError) {
        guard let compressor else {
            if out.isEmpty {
                // Plain lines are the bytes to write: hand the buffer over instead of copying
                // it (a batch of pages is megabytes).
                swap(&out, &pending)
                pending.reserveCapacity(64 << 10)
            } else {
                out.append(contentsOf: pending)
                pending.removeAll(keepingCapacity: pending.capacity <= 4 << 20)
            }
            return
        }
        defer { pending.removeAll(keepingCapacity: pending.capacity <= 4 << 20) }
        try compressor.compress(pending, mode: endFrame ? .end : .flush, into: &out)
    }

    /// Takes back a buffer that ``flush(endFrame:)`` handed over, once its bytes are written,
    /// so that the next lines go into its room: plain lines hand `pending` itself over, and a
    /// new one grew again by copying for every batch of large pages.
    public func recycle(_ buffer: consuming [UInt8]) {
        guard pending.isEmpty, buffer.capacity > pending.capacity, buffer.capacity <= 4 << 20 else { return }
        var buffer = buffer
        buffer.removeAll(keepingCapacity: true)
        pending = buffer
    }

    /// Closes the stream: for zstd, ends the open frame so the reader sees a whole frame.
    public func finish() throws(RunnelError) -> [UInt8] {
        try flush(endFrame: true)
    }
}
