/// What a ``StreamDecoder`` finds in a stream, one line at a time.
public enum LineEvent {
    /// A complete line (newline excluded), valid only during the callback, and its 1-based number.
    case line(UnsafeBufferPointer<UInt8>, number: Int)
    /// A line that was refused (too long); the stream goes on after it.
    case invalid(RunnelError)
}
