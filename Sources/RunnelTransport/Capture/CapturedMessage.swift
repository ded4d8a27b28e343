import RunnelProtocol

/// One data message read from a capture log: its line exactly as captured, the envelope decoded
/// from it, and where it was found.
public struct CapturedMessage: Sendable {
    /// The line as captured, without its newline (send it on unchanged to keep it byte for byte).
    public var line: [UInt8]
    /// The decoded envelope (`seq`, if captured, is the captured link's and means nothing now).
    public var envelope: Envelope
    /// The file it was read from.
    public var file: String
    /// Where in `file` its frame starts (compressed bytes); for a plain file, where the line starts.
    public var offset: Int
    /// Its 1-based line number in the file's decoded text.
    public var lineNumber: Int

    /// `envelope.ts` in milliseconds since the epoch, or `nil` when absent or not RFC 3339.
    public var timestampMillis: Int64? { envelope.ts.flatMap(Timestamp.parse) }
}

/// Something a reader skipped or cut, reported without stopping: a torn tail, a bad line.
public struct CaptureLogWarning: Sendable, CustomStringConvertible {
    public var file: String
    public var error: RunnelError

    public init(file: String, error: RunnelError) {
        self.file = file
        self.error = error
    }

    /// Whether this is a torn tail: the file ends inside its last frame, as it does after its
    /// writer was killed mid-write (normal after a crash), not damage in the middle of it.
    public var isTornTail: Bool { error.isTornTail }

    /// `FILE: byte 1234: DATA_LOSS: …`, as `runnel cat` reports problems.
    public var description: String {
        var text = "\(file): "
        if let position = error.position, !position.description.isEmpty { text += "\(position): " }
        return text + "\(error.code.name): \(error.message)"
    }
}

extension RunnelError {
    /// Whether this is a capture log's torn tail (its cause is ``CaptureLogReader/TornTail``):
    /// the file ends inside its last frame, normal after a crash; any other `DATA_LOSS` is damage.
    public var isTornTail: Bool { cause is CaptureLogReader.TornTail }
}
