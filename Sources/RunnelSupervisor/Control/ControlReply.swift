import Foundation
import RunnelProtocol

/// A supervisor's answer to a ``ControlRequest``, one JSON line (`Protocol/schemas/supervisor.json`):
///
/// | reply | wire |
/// |---|---|
/// | ``ok`` | `{"ok":true}` |
/// | ``status(_:)`` | the ``PipelineStatus`` object |
/// | ``tap(_:)`` | `{"stage":"parse","state":"running","sockets":["…/parse.tap.4242.sock"]}` |
/// | ``error(_:code:)`` | `{"error":"no stage named x (stages: …)","code":5}` |
///
/// ```swift
/// switch try await ControlClient.request(path, .ping, timeout: .seconds(2)) {
/// case .ok: print("up")
/// case let .error(message, _): print(message)
/// default: break
/// }
/// ```
public enum ControlReply: Codable, Sendable, Equatable {
    case ok
    case status(PipelineStatus)
    case tap(TapSockets)
    /// The request was refused or failed; `code` is a protocol status code (`NOT_FOUND` for an
    /// unknown stage, `INVALID_ARGUMENT` for a bad request, `DEADLINE_EXCEEDED` when the
    /// supervisor did not answer in time, `UNAVAILABLE` while it shuts down).
    case error(String, code: StatusCode)

    /// The tap sockets of a stage's live processes.
    public struct TapSockets: Codable, Sendable, Equatable {
        public var stage: String
        /// The stage's state (``PipelineStatus/Stage/state``).
        public var state: String
        /// One Unix socket per live process (PROTOCOL.md 9.3).
        public var sockets: [String]

        public init(stage: String, state: String, sockets: [String]) {
            self.stage = stage
            self.state = state
            self.sockets = sockets
        }
    }

    /// An error reply from a ``RunnelError``.
    public init(_ error: RunnelError) {
        self = .error(error.message, code: error.code)
    }

    /// The reply's error as a ``RunnelError``, or `nil` when it is not an error.
    public var failure: RunnelError? {
        guard case let .error(message, code) = self else { return nil }
        return RunnelError(code, message)
    }

    private struct Keys: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
        static let ok = Keys(stringValue: "ok")
        static let error = Keys(stringValue: "error")
        static let code = Keys(stringValue: "code")
        static let sockets = Keys(stringValue: "sockets")
        static let pipeline = Keys(stringValue: "pipeline")
    }

    /// Tells the replies apart by their keys: `error`, then `sockets`, then `pipeline`, then `ok`.
    /// An error without a `code` (an older supervisor) is `INVALID_ARGUMENT`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Keys.self)
        if container.contains(.error) {
            let code = try container.decodeIfPresent(Int.self, forKey: .code).flatMap(StatusCode.init(rawValue:))
            self = .error(try container.decode(String.self, forKey: .error), code: code ?? .invalidArgument)
        } else if container.contains(.sockets) {
            self = .tap(try TapSockets(from: decoder))
        } else if container.contains(.pipeline) {
            self = .status(try PipelineStatus(from: decoder))
        } else if try container.decodeIfPresent(Bool.self, forKey: .ok) == true {
            self = .ok
        } else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "not a control reply"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .ok:
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(true, forKey: .ok)
        case let .status(status): try status.encode(to: encoder)
        case let .tap(sockets): try sockets.encode(to: encoder)
        case let .error(message, code):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(message, forKey: .error)
            try container.encode(code.rawValue, forKey: .code)
        }
    }

    /// The reply as one line of JSON, with its newline (keys sorted).
    public var line: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var bytes = (try? encoder.encode(self)).map(Array.init) ?? Array(#"{"code":13,"error":"the reply could not be encoded"}"#.utf8)
        bytes.append(0x0A)
        return bytes
    }
}
