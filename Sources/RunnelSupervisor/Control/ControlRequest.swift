import Foundation
import RunnelProtocol

/// A question to a supervisor's control socket, one JSON line:
/// `{"op":"status"}`, `{"op":"restart","stage":"parse"}` (`Protocol/schemas/supervisor.json`).
///
/// ```swift
/// let request = try ControlRequest(line: Array(#"{"op":"tap","stage":"parse"}"#.utf8))
/// // .tap(stage: "parse")
/// ```
public enum ControlRequest: Codable, Sendable, Hashable {
    /// Whether a supervisor answers (`{"ok":true}`).
    case ping
    /// The pipeline's ``PipelineStatus``.
    case status
    /// Drain from the source down, then exit.
    case stop
    /// Restart one stage (it drains first).
    case restart(stage: String)
    /// Where the processes of a stage offer `runnel tap` (``ControlReply/TapSockets``).
    case tap(stage: String)

    enum CodingKeys: String, CodingKey { case op, stage }

    /// The operation's name on the wire.
    public var op: String {
        switch self {
        case .ping: "ping"
        case .status: "status"
        case .stop: "stop"
        case .restart: "restart"
        case .tap: "tap"
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let op = try container.decode(String.self, forKey: .op)
        switch op {
        case "ping": self = .ping
        case "status": self = .status
        case "stop": self = .stop
        case "restart": self = .restart(stage: try container.decode(String.self, forKey: .stage))
        case "tap": self = .tap(stage: try container.decode(String.self, forKey: .stage))
        default:
            throw DecodingError.dataCorruptedError(forKey: .op, in: container, debugDescription: "unknown request \(op)")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(op, forKey: .op)
        switch self {
        case let .restart(stage), let .tap(stage): try container.encode(stage, forKey: .stage)
        case .ping, .status, .stop: break
        }
    }

    /// Reads a request line (without its newline).
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` saying what is wrong with it: not a
    ///   JSON object, no `op`, an unknown `op`, no `stage` for `restart` or `tap`.
    public init(line: some Collection<UInt8>) throws(RunnelError) {
        guard let raw = try? JSONDecoder().decode(RawControlRequest.self, from: Data(line)) else {
            throw RunnelError(.invalidArgument, #"a request is one JSON object on a line, such as {"op":"status"}"#)
        }
        switch raw.op {
        case "ping": self = .ping
        case "status": self = .status
        case "stop": self = .stop
        case "restart", "tap":
            guard let stage = raw.stage, !stage.isEmpty else {
                throw RunnelError(.invalidArgument, "\(raw.op!) needs a stage: {\"op\":\"\(raw.op!)\",\"stage\":\"parse\"}")
            }
            self = raw.op == "tap" ? .tap(stage: stage) : .restart(stage: stage)
        case nil:
            throw RunnelError(.invalidArgument, "a request needs an op: ping, status, stop, restart or tap")
        case let op?:
            throw RunnelError(.invalidArgument, "unknown request \(op) (ops: ping, status, stop, restart, tap)")
        }
    }
}

/// A request line as sent, before it is checked.
private struct RawControlRequest: Decodable {
    var op: String?
    var stage: String?
}
