/// A data message: the header every stage reads, and a body kept as raw JSON.
///
/// On the wire it is one JSON object on one line:
///
/// ```json
/// {"id":"01J…","seq":7,"type":"page.fetched","ts":"2026-11-29T13:00:00.120Z","attempt":1,
///  "deadline_ms":29500,"trace":"01J…","parent":"01J…","meta":{"source":"urls.txt"},"body":{…}}
/// ```
///
/// `id`, `type` and `body` are required; the rest have defaults. See `Protocol/PROTOCOL.md`.
public struct Envelope: Sendable, Hashable {
    /// Unique per message; outputs derived from a message get new ids.
    public var id: String
    /// The per-link sequence number used by acks. Assigned by the sender of each link; absent in
    /// files and on stdin.
    public var seq: UInt64?
    /// The dotted message type, such as `page.fetched`.
    public var type: String
    /// When the message was made, RFC 3339 in UTC with milliseconds.
    public var ts: String?
    /// 1 on the first delivery, incremented on every retry.
    public var attempt: Int
    /// Time budget left in milliseconds, relative (as gRPC's timeout). `nil` means no deadline.
    public var deadlineMs: Int64?
    /// The id shared by every message descended from the same source message.
    public var trace: String?
    /// The id of the message this one was derived from.
    public var parent: String?
    /// String metadata that travels with the message and its descendants (like gRPC metadata).
    public var meta: [String: String]
    /// The message's content, whose shape depends on `type`.
    public var body: RawJSON

    public init(
        id: String = MessageID.make(), seq: UInt64? = nil, type: String, ts: String? = Timestamp.now(),
        attempt: Int = 1, deadlineMs: Int64? = nil, trace: String? = nil, parent: String? = nil,
        meta: [String: String] = [:], body: RawJSON
    ) {
        self.id = id
        self.seq = seq
        self.type = type
        self.ts = ts
        self.attempt = attempt
        self.deadlineMs = deadlineMs
        self.trace = trace
        self.parent = parent
        self.meta = meta
        self.body = body
    }

    /// A new message derived from this one: it keeps the trace, the metadata and what is left of
    /// the deadline, and names this message as its parent.
    public func derive(type: String, body: RawJSON) -> Envelope {
        Envelope(
            type: type, deadlineMs: deadlineMs, trace: trace ?? id, parent: id, meta: meta, body: body)
    }
}
