import Foundation

extension ControlMessage {
    /// Decodes one control line.
    /// - Throws: ``RunnelError``: `UNIMPLEMENTED` for an unknown `ctl`, `INVALID_ARGUMENT` for a
    ///   missing or mistyped field.
    public init(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        let data = Data(buffer: line)
        let wire: Wire
        do {
            wire = try RawJSON.decoder.decode(Wire.self, from: data)
        } catch let error as DecodingError {
            throw RunnelError(.invalidArgument, RawJSON.explain(error, prefix: "control"))
        } catch {
            throw RunnelError(.invalidArgument, "\(error)")
        }
        func require<T>(_ value: T?, _ field: String) throws(RunnelError) -> T {
            guard let value else {
                throw RunnelError(.invalidArgument, "\"\(wire.ctl)\" control message: missing field \"\(field)\"")
            }
            return value
        }
        switch wire.ctl {
        case "hello":
            let versions = wire.versions ?? wire.v.map { [$0] }
            self = .hello(
                Hello(
                    versions: try require(versions, "versions"), stage: try require(wire.stage, "stage"),
                    accepts: wire.accepts ?? [], emits: wire.emits ?? [], nonce: wire.nonce, proof: wire.proof))
        case "credit":
            let n = try require(wire.n, "n")
            guard n >= 0 else { throw RunnelError(.invalidArgument, "\"credit\": n must not be negative") }
            self = .credit(n)
        case "ack": self = .ack(seq: try require(wire.seq, "seq"))
        case "nack":
            self = .nack(
                Nack(
                    seq: try require(wire.seq, "seq"), code: try require(wire.code, "code"),
                    message: wire.message ?? ""))
        case "ping": self = .ping(id: wire.id ?? "")
        case "pong": self = .pong(id: wire.id ?? "")
        case "health": self = .health(wire.status)
        case "describe": self = .describe(wire.service)
        case "drain": self = .drain
        case "bye": self = .bye(Bye(code: wire.code ?? .ok, message: wire.message ?? ""))
        default:
            throw RunnelError(
                .unimplemented,
                "unknown control message \"\(wire.ctl)\" (known: \(ControlMessage.names.joined(separator: ", ")))")
        }
    }

    /// Appends the message as one JSON line, newline included.
    public func appendLine(to out: inout [UInt8]) {
        var wire = Wire(ctl: name)
        switch self {
        case let .hello(hello):
            wire.versions = hello.versions
            wire.stage = hello.stage
            wire.accepts = hello.accepts
            wire.emits = hello.emits
            wire.nonce = hello.nonce
            wire.proof = hello.proof
        case let .credit(n): wire.n = n
        case let .ack(seq): wire.seq = seq
        case let .nack(nack):
            wire.seq = nack.seq
            wire.code = nack.code
            wire.message = nack.message
        case let .ping(id), let .pong(id): wire.id = id
        case let .health(status): wire.status = status
        case let .describe(service): wire.service = service
        case .drain: break
        case let .bye(bye):
            wire.code = bye.code
            wire.message = bye.message
        }
        // Control lines are rare (acks and credits are cumulative, one per batch), so Codable's
        // cost does not matter here.
        out.append(contentsOf: (try? RawJSON.encoder.encode(wire)) ?? Data(#"{"ctl":"bye"}"#.utf8))
        out.append(UInt8(ascii: "\n"))
    }

    /// The message as one JSON line, without the newline.
    public var jsonLine: String {
        var out: [UInt8] = []
        appendLine(to: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    /// Every field any control message has, flat, as on the wire.
    private struct Wire: Codable {
        var ctl: String
        var v: Int?
        var versions: [Int]?
        var stage: String?
        var accepts: [String]?
        var emits: [String]?
        var nonce: String?
        var proof: String?
        var n: Int?
        var seq: UInt64?
        var code: StatusCode?
        var message: String?
        var id: String?
        var status: HealthStatus?
        var service: ServiceDefinition?

        init(ctl: String) { self.ctl = ctl }
    }
}
