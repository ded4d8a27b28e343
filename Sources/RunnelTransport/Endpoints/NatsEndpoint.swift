import RunnelProtocol

/// A NATS JetStream endpoint: `nats://host:port/subject?option=value&…`.
///
/// As `--listen`, the stage reads from a durable pull consumer (named after the stage, so its
/// replicas share the work) on a work-queue stream bound to the subject. As `--to`, it publishes
/// each output to the subject with `Nats-Msg-Id` set to the envelope's id. Both create the
/// stream when it is missing.
///
/// | query key | meaning | default |
/// |---|---|---|
/// | `ack_wait` | how long JetStream waits for an ack before it redelivers (`500ms`, `2s`, `1m`) | `30s` |
/// | `stream` | the stream's name | `RUNNEL_` + the subject, `.` → `_` |
/// | `durable` | the consumer's name (replicas with one name share the work) | the stage's name |
/// | `storage` | `file` or `memory`, for a stream this endpoint creates | `file` |
/// | `max_ack_pending` | unacked messages JetStream hands out over all replicas | `20000` |
///
/// ```swift
/// let endpoint = try NatsEndpoint(parsing: "nats://10.0.0.7:4222/pages?ack_wait=2s")
/// endpoint.stream  // "RUNNEL_pages"
/// ```
public struct NatsEndpoint: Sendable, Hashable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var subject: String
    public var stream: String
    /// The consumer's name; `nil` takes the stage's name.
    public var durable: String?
    public var ackWait: Duration
    public var memoryStorage: Bool
    public var maxAckPending: Int

    public static let defaultPort = 4222
    static let keys = ["ack_wait", "stream", "durable", "storage", "max_ack_pending"]

    public init(
        host: String, port: Int = Self.defaultPort, subject: String, stream: String? = nil, durable: String? = nil,
        ackWait: Duration = .seconds(30), memoryStorage: Bool = false, maxAckPending: Int = 20_000
    ) {
        self.host = host
        self.port = port
        self.subject = subject
        self.stream = stream ?? Self.streamName(for: subject)
        self.durable = durable
        self.ackWait = ackWait
        self.memoryStorage = memoryStorage
        self.maxAckPending = maxAckPending
    }

    /// Parses `nats://host[:port]/subject[?key=value&…]`.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` saying which part is wrong and what is accepted.
    public init(parsing text: String) throws(RunnelError) {
        guard text.hasPrefix("nats://") else { throw Self.invalid(text, "expected nats://host:port/subject") }
        var rest = Substring(text.dropFirst(7))
        var query: Substring = ""
        if let mark = rest.firstIndex(of: "?") {
            query = rest[rest.index(after: mark)...]
            rest = rest[..<mark]
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw Self.invalid(text, "a NATS endpoint needs a subject: nats://host:port/subject")
        }
        let authority = rest[..<slash]
        let subject = String(rest[rest.index(after: slash)...])
        guard !authority.contains("@") else {
            throw Self.invalid(text, "credentials in the URL are not supported; run NATS on a trusted network or loopback")
        }
        var host = String(authority)
        var port = Self.defaultPort
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { port = try Self.port(after.dropFirst(), text) }
        } else if let colon = authority.lastIndex(of: ":") {
            host = String(authority[..<colon])
            port = try Self.port(authority[authority.index(after: colon)...], text)
        }
        guard !host.isEmpty else { throw Self.invalid(text, "the host is missing: nats://host:port/subject") }
        try Self.checkName(subject, allowDots: true, what: "subject", text)
        self.init(host: host, port: port, subject: subject)
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1)
            let key = String(parts[0])
            let value = parts.count > 1 ? String(parts[1]) : ""
            switch key {
            case "ack_wait":
                guard let duration = Self.duration(value), duration >= .milliseconds(100) else {
                    throw Self.invalid(text, "ack_wait must be a duration of at least 100ms, like 500ms, 2s or 1m")
                }
                ackWait = duration
            case "stream":
                try Self.checkName(value, allowDots: false, what: "stream name", text)
                stream = value
            case "durable":
                try Self.checkName(value, allowDots: false, what: "durable name", text)
                durable = value
            case "storage":
                guard value == "file" || value == "memory" else { throw Self.invalid(text, "storage must be file or memory") }
                memoryStorage = value == "memory"
            case "max_ack_pending":
                guard let n = Int(value), n > 0 else { throw Self.invalid(text, "max_ack_pending must be a positive number") }
                maxAckPending = n
            default:
                throw Self.invalid(text, "unknown option \(key); known: \(Self.keys.joined(separator: ", "))")
            }
        }
    }

    /// The server's URL, for the NATS client.
    public var serverURL: String {
        host.contains(":") ? "nats://[\(host)]:\(port)" : "nats://\(host):\(port)"
    }

    public var description: String {
        var options: [String] = []
        if ackWait != .seconds(30) { options.append("ack_wait=\(Self.format(ackWait))") }
        if stream != Self.streamName(for: subject) { options.append("stream=\(stream)") }
        if let durable { options.append("durable=\(durable)") }
        if memoryStorage { options.append("storage=memory") }
        if maxAckPending != 20_000 { options.append("max_ack_pending=\(maxAckPending)") }
        return "\(serverURL)/\(subject)" + (options.isEmpty ? "" : "?" + options.joined(separator: "&"))
    }

    /// The default stream for a subject: `pages.vi` → `RUNNEL_pages_vi`.
    public static func streamName(for subject: String) -> String {
        "RUNNEL_" + String(subject.map { $0 == "." ? "_" : $0 })
    }

    /// A consumer name made from a stage name: JetStream allows no dots, spaces or wildcards.
    public static func consumerName(for stage: String) -> String {
        String(stage.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }

    // MARK: Parsing helpers

    private static func port(_ text: Substring, _ whole: String) throws(RunnelError) -> Int {
        guard let port = Int(text), (1...65535).contains(port) else {
            throw invalid(whole, "the port must be a number within 1…65535")
        }
        return port
    }

    /// Subjects are dot-separated tokens; stream and consumer names are one token. Wildcards
    /// (`*`, `>`) are refused: a work queue needs one concrete subject.
    private static func checkName(_ name: String, allowDots: Bool, what: String, _ whole: String) throws(RunnelError) {
        guard !name.isEmpty else { throw invalid(whole, "the \(what) is empty") }
        for scalar in name.unicodeScalars {
            let ok =
                (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_")
                || (allowDots && scalar == ".")
            guard ok else {
                throw invalid(
                    whole, "the \(what) \"\(name)\" may hold letters, digits, - and _\(allowDots ? ", and dots between tokens" : "")")
            }
        }
        if allowDots && (name.hasPrefix(".") || name.hasSuffix(".") || name.contains("..")) {
            throw invalid(whole, "the \(what) \"\(name)\" has an empty token")
        }
    }

    /// `250ms`, `2s`, `1.5s`, `1m`: ``TimeSpan``'s syntax, as every duration in Runnel; a bare
    /// number of seconds is still read. `nil` for anything else, or for more than ``TimeSpan``
    /// holds (`1e300` must not trap).
    static func duration(_ text: String) -> Duration? {
        (try? TimeSpan(parsing: text, legacyUnit: .seconds(1)))?.duration
    }

    static func format(_ duration: Duration) -> String { TimeSpan(duration).description }

    private static func invalid(_ text: String, _ hint: String) -> RunnelError {
        RunnelError(.invalidArgument, "endpoint \"\(Endpoint.hidingCredentials(text))\": \(hint)")
    }
}
