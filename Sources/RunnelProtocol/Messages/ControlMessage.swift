/// A control line: link management that is not data. It has `ctl` instead of `type`.
///
/// ```json
/// {"ctl":"hello","versions":[1],"stage":"parse","accepts":["page.fetched"],"emits":["article.parsed"]}
/// {"ctl":"credit","n":256}
/// {"ctl":"ack","seq":1041}
/// ```
///
/// `Protocol/PROTOCOL.md` says when each is sent and what the receiver does.
public enum ControlMessage: Sendable, Hashable {
    /// Opens a link, both ways: versions, names, types, and the authentication proof on TCP.
    case hello(Hello)
    /// The receiver allows `n` more unacked messages in flight (added to what it granted before).
    case credit(Int)
    /// Cumulative: every message with a `seq` up to and including this one is done.
    case ack(seq: UInt64)
    /// The message with this `seq` failed with a status; the sender retries or dead-letters it.
    case nack(Nack)
    /// Keepalive; the peer answers with `pong` carrying the same `id`.
    case ping(id: String)
    case pong(id: String)
    /// The sender's serving status, as `grpc.health.v1` (asked for by `health` with no status).
    case health(HealthStatus?)
    /// Asks for, or (with a definition) answers with, the stage's service definition.
    case describe(ServiceDefinition?)
    /// The sender will send no more data messages; the peer finishes, acks and closes.
    case drain
    /// The link is closing; `code` is `OK` for a normal close, otherwise why it was refused.
    case bye(Bye)

    /// The `ctl` name of this message.
    public var name: String {
        switch self {
        case .hello: "hello"
        case .credit: "credit"
        case .ack: "ack"
        case .nack: "nack"
        case .ping: "ping"
        case .pong: "pong"
        case .health: "health"
        case .describe: "describe"
        case .drain: "drain"
        case .bye: "bye"
        }
    }

    /// The names a receiver knows; any other `ctl` is refused with `UNIMPLEMENTED`.
    public static let names = ["hello", "credit", "ack", "nack", "ping", "pong", "health", "describe", "drain", "bye"]
}

/// The first line each side of a link sends.
public struct Hello: Sendable, Hashable, Codable {
    /// Protocol versions the sender speaks; the link uses the highest common one.
    public var versions: [Int]
    /// The stage (or tool) name: `parse`, `send`, `recv`…
    public var stage: String
    /// Message types this side accepts as input (empty for a pure sender).
    public var accepts: [String]
    /// Message types this side emits (empty for a pure receiver).
    public var emits: [String]
    /// A random challenge for the peer to sign (TCP links with a shared key).
    public var nonce: String?
    /// HMAC-SHA256, with the shared key, of this side's role (`connect:` or `accept:`) followed by
    /// the peer's nonce, as lower-case hex (`Protocol/PROTOCOL.md`, 7.2).
    public var proof: String?
    /// `"call"` from a connector that wants the outputs of what it sends back on the same link
    /// (`runnel call`) instead of downstream (`Protocol/PROTOCOL.md`, 7.10).
    public var mode: String?

    public init(
        versions: [Int] = [Envelope.protocolVersion], stage: String, accepts: [String] = [], emits: [String] = [],
        nonce: String? = nil, proof: String? = nil, mode: String? = nil
    ) {
        self.mode = mode
        self.versions = versions
        self.stage = stage
        self.accepts = accepts
        self.emits = emits
        self.nonce = nonce
        self.proof = proof
    }
}

/// A negative acknowledgement of one message.
public struct Nack: Sendable, Hashable, Codable {
    public var seq: UInt64
    public var code: StatusCode
    public var message: String

    public init(seq: UInt64, code: StatusCode, message: String) {
        self.seq = seq
        self.code = code
        self.message = message
    }
}

/// Why a link closes.
public struct Bye: Sendable, Hashable, Codable {
    public var code: StatusCode
    public var message: String

    public init(code: StatusCode = .ok, message: String = "") {
        self.code = code
        self.message = message
    }
}

/// `grpc.health.v1.HealthCheckResponse.ServingStatus`.
public enum HealthStatus: String, Sendable, Hashable, Codable {
    case serving = "SERVING"
    case notServing = "NOT_SERVING"
    case unknown = "UNKNOWN"
}
