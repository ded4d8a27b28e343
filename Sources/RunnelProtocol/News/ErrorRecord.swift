/// `error`: a message that failed, with why. Retryable codes are retried; the others end in the
/// stage's dead-letter log (or, in a shell pipe, travel downstream to the store's failure table).
public struct ErrorRecord: Sendable, Hashable, Codable {
    /// The numeric status code.
    public var code: StatusCode
    /// The code's name (`DEADLINE_EXCEEDED`), for people and `jq`.
    public var status: String
    public var message: String
    /// The stage that failed it.
    public var stage: String
    /// How many times it was tried.
    public var attempt: Int
    /// The URL concerned, when there is one (fetch failures), so a person can act on it.
    public var url: String?
    /// The failed input, as it arrived (absent when the input could not even be decoded).
    public var original: RawJSON?
    /// The failed input's raw text when it was not a valid message (truncated to 4 KiB).
    public var raw: String?

    public init(
        error: RunnelError, stage: String, attempt: Int, url: String? = nil, original: Envelope? = nil,
        raw: String? = nil
    ) {
        self.code = error.code
        self.status = error.code.name
        if let position = error.position, !position.description.isEmpty {
            self.message = "\(position): \(error.message)"
        } else {
            self.message = error.message
        }
        self.stage = stage
        self.attempt = attempt
        self.url = url
        if let original {
            var line: [UInt8] = []
            original.appendLine(to: &line)
            line.removeLast()
            self.original = RawJSON(validated: line)
        } else {
            self.original = nil
        }
        self.raw = raw.map { String($0.prefix(4096)) }
    }
}
