/// Checks lines against the protocol's schemas by decoding them into the typed models.
///
/// There is no JSON Schema validator on the package mirror, so the Swift models are the
/// checker; a test keeps them in agreement with `Protocol/schemas/` by running both over every
/// golden vector.
public enum Validator {
    /// The outcome for one valid line.
    public enum Checked: Sendable, Equatable {
        /// A data message whose body matched its type's schema.
        case data(type: String)
        /// A data message of a type without a schema: only the envelope was checked.
        case unknownType(String)
        case control(String)
    }

    /// Validates one line (without its newline).
    /// - Throws: ``RunnelError`` naming the field and the reason.
    public static func check(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) -> Checked {
        switch try WireLine(line: line) {
        case let .control(control):
            return .control(control.name)
        case let .data(envelope):
            guard envelope.attempt >= 1 else {
                throw RunnelError(.invalidArgument, "field \"attempt\": must be 1 or more")
            }
            if let ts = envelope.ts, Timestamp.parse(ts) == nil {
                throw RunnelError(.invalidArgument, "field \"ts\": not an RFC 3339 timestamp: \(ts)")
            }
            guard try checkBody(envelope) else { return .unknownType(envelope.type) }
            return .data(type: envelope.type)
        }
    }

    /// Decodes the body into the model of its type; `false` when the type has no model.
    static func checkBody(_ envelope: Envelope) throws(RunnelError) -> Bool {
        switch envelope.type {
        case MessageType.urlRequested:
            let body = try envelope.body.decode(URLRequested.self)
            try require(!body.url.isEmpty, "body.url: must not be empty")
        case MessageType.pageFetched:
            let body = try envelope.body.decode(PageFetched.self)
            try require(!body.url.isEmpty, "body.url: must not be empty")
            try require((100...599).contains(body.status), "body.status: not an HTTP status (\(body.status))")
        case MessageType.articleParsed:
            let body = try envelope.body.decode(ArticleParsed.self)
            try require(!body.url.isEmpty, "body.url: must not be empty")
        case MessageType.articleEnriched:
            let body = try envelope.body.decode(ArticleEnriched.self)
            try require(!body.article.url.isEmpty, "body.url: must not be empty")
            try require((0...1).contains(body.language.confidence), "body.language.confidence: must be within 0…1")
            try require(
                body.simhash.utf8.count == 16 && body.simhash.utf8.allSatisfy { JSONScanner.hexValue($0) != nil },
                "body.simhash: must be 16 hex digits")
        case MessageType.articleStored:
            _ = try envelope.body.decode(ArticleStored.self)
        case MessageType.error:
            let body = try envelope.body.decode(ErrorRecord.self)
            try require(body.status == body.code.name, "body.status: \"\(body.status)\" does not name code \(body.code.rawValue)")
        default:
            return false
        }
        return true
    }

    private static func require(_ condition: Bool, _ message: String) throws(RunnelError) {
        if !condition { throw RunnelError(.invalidArgument, message) }
    }
}
