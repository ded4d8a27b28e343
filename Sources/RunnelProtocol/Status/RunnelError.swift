/// An error with a protocol status code, a message a person can act on, and what caused it.
///
/// The message says what was wrong and, where it helps, what to do; `position` says where in a
/// stream it happened. The description is one line: `INVALID_ARGUMENT line 12: missing "type"`.
///
/// ```swift
/// throw RunnelError(.invalidArgument, "missing \"type\"", at: .line(12))
/// ```
public struct RunnelError: Error, Sendable, CustomStringConvertible {
    /// Where in a stream an error was found.
    public struct Position: Sendable, Hashable, CustomStringConvertible {
        /// The 1-based line number in the decoded JSON-lines stream, when the error is in a line.
        public var line: Int?
        /// The byte offset in the input as read (compressed bytes for a zstd stream).
        public var offset: Int?

        public init(line: Int? = nil, offset: Int? = nil) {
            self.line = line
            self.offset = offset
        }

        public static func line(_ n: Int) -> Position { Position(line: n) }
        public static func offset(_ n: Int) -> Position { Position(offset: n) }

        public var description: String {
            switch (line, offset) {
            case let (line?, offset?): "line \(line) (byte \(offset))"
            case let (line?, nil): "line \(line)"
            case let (nil, offset?): "byte \(offset)"
            case (nil, nil): ""
            }
        }
    }

    public var code: StatusCode
    public var message: String
    public var position: Position?
    public var cause: (any Error & Sendable)?

    public init(
        _ code: StatusCode, _ message: String, at position: Position? = nil,
        cause: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.position = position
        self.cause = cause
    }

    /// The same error, placed at `position` unless it already knows where it happened.
    public func at(_ position: Position) -> RunnelError {
        var copy = self
        if copy.position == nil { copy.position = position }
        return copy
    }

    public var description: String {
        var text = code.name
        if let position, !position.description.isEmpty { text += " \(position)" }
        text += ": \(message)"
        if let cause { text += " (\(cause))" }
        return text
    }
}
