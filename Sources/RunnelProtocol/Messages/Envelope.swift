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
    // The fields live in one copy-on-write box: a message is copied many times on its way
    // through a runner (queues, windows, outcomes), and one retain beats ten. `seq` lives beside
    // the box: it is the one field every stage changes (the input's is cleared on the output it
    // forwards), and changing it must not copy the box (issue 14).
    private final class Storage: @unchecked Sendable {
        var id: String
        var type: String
        var ts: String?
        var attempt: Int
        var deadlineMs: Int64?
        var trace: String?
        var parent: String?
        var meta: [String: String]
        var body: RawJSON

        init(id: String, type: String, ts: String?, attempt: Int, deadlineMs: Int64?, trace: String?, parent: String?, meta: [String: String], body: RawJSON) {
            self.id = id
            self.type = type
            self.ts = ts
            self.attempt = attempt
            self.deadlineMs = deadlineMs
            self.trace = trace
            self.parent = parent
            self.meta = meta
            self.body = body
        }

        func copy() -> Storage {
            Storage(id: id, type: type, ts: ts, attempt: attempt, deadlineMs: deadlineMs, trace: trace, parent: parent, meta: meta, body: body)
        }
    }

    private var storage: Storage

    private mutating func unique() -> Storage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// Unique per message; outputs derived from a message get new ids.
    public var id: String {
        get { storage.id }
        set { unique().id = newValue }
    }

    /// The per-link sequence number used by acks. Assigned by the sender of each link; absent in
    /// files and on stdin.
    public var seq: UInt64?

    /// The dotted message type, such as `page.fetched`.
    public var type: String {
        get { storage.type }
        set { unique().type = newValue }
    }

    /// When the message was made, RFC 3339 in UTC with milliseconds.
    public var ts: String? {
        get { storage.ts }
        set { unique().ts = newValue }
    }

    /// 1 on the first delivery, incremented on every retry.
    public var attempt: Int {
        get { storage.attempt }
        set { unique().attempt = newValue }
    }

    /// Counts `more` deliveries into ``attempt``, stopping at `Int.max`: a peer may send any
    /// attempt up to it, and one more must not trap.
    public mutating func countAttempts(_ more: Int) {
        let (sum, overflow) = attempt.addingReportingOverflow(max(more, 0))
        attempt = overflow ? .max : sum
    }

    /// Time budget left in milliseconds, relative (as gRPC's timeout). `nil` means no deadline.
    public var deadlineMs: Int64? {
        get { storage.deadlineMs }
        // Unchanged (a forwarded message without a deadline): the box stays shared.
        set { if storage.deadlineMs != newValue { unique().deadlineMs = newValue } }
    }

    /// The id shared by every message descended from the same source message.
    public var trace: String? {
        get { storage.trace }
        set { unique().trace = newValue }
    }

    /// The id of the message this one was derived from.
    public var parent: String? {
        get { storage.parent }
        set { unique().parent = newValue }
    }

    /// String metadata that travels with the message and its descendants (like gRPC metadata).
    public var meta: [String: String] {
        get { storage.meta }
        set { unique().meta = newValue }
    }

    /// The message's content, whose shape depends on `type`.
    public var body: RawJSON {
        get { storage.body }
        set { unique().body = newValue }
    }

    public init(
        id: String = MessageID.make(), seq: UInt64? = nil, type: String, ts: String? = Timestamp.now(),
        attempt: Int = 1, deadlineMs: Int64? = nil, trace: String? = nil, parent: String? = nil,
        meta: [String: String] = [:], body: RawJSON
    ) {
        self.seq = seq
        storage = Storage(
            id: id, type: type, ts: ts, attempt: attempt, deadlineMs: deadlineMs, trace: trace,
            parent: parent, meta: meta, body: body)
    }

    public static func == (lhs: Envelope, rhs: Envelope) -> Bool {
        if lhs.storage === rhs.storage { return lhs.seq == rhs.seq }
        return lhs.id == rhs.id
            && lhs.seq == rhs.seq
            && lhs.type == rhs.type
            && lhs.ts == rhs.ts
            && lhs.attempt == rhs.attempt
            && lhs.deadlineMs == rhs.deadlineMs
            && lhs.trace == rhs.trace
            && lhs.parent == rhs.parent
            && lhs.meta == rhs.meta
            && lhs.body == rhs.body
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(seq)
        hasher.combine(type)
        hasher.combine(body)
    }

    /// A new message derived from this one: it keeps the trace, the metadata and what is left of
    /// the deadline, and names this message as its parent.
    public func derive(type: String, body: RawJSON) -> Envelope {
        Envelope(
            type: type, deadlineMs: deadlineMs, trace: trace ?? id, parent: id, meta: meta, body: body)
    }
}
