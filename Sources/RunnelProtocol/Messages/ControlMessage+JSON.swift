import Foundation

extension ControlMessage {
    /// Decodes one control line.
    /// - Throws: ``RunnelError``: `UNIMPLEMENTED` for an unknown `ctl`, `INVALID_ARGUMENT` for a
    ///   missing or mistyped field.
    public init(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        if let quick = Self.quick(line) {
            self = quick
            return
        }
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
                    accepts: wire.accepts ?? [], emits: wire.emits ?? [], nonce: wire.nonce, proof: wire.proof,
                    mode: wire.mode))
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

    /// `ack` and `credit` exactly as ``appendLine(to:)`` writes them (`{"ctl":"ack","seq":17}`,
    /// `{"ctl":"credit","n":256}`), read without Foundation's decoder: a link carries one of each
    /// per batch acked, and JSONDecoder cost more than the rest of the line's handling (issue 14).
    /// The whole line must match byte for byte, the number as JSON writes it (no sign, no
    /// leading zero, no fraction) and in range; any other line, valid or not, is `nil` and goes
    /// to the full decoder, which says what is wrong with it.
    static func quick(_ line: UnsafeBufferPointer<UInt8>) -> ControlMessage? {
        let ack: StaticString = #"{"ctl":"ack","seq":"#
        let credit: StaticString = #"{"ctl":"credit","n":"#
        if let seq = number(line, after: ack) { return .ack(seq: seq) }
        if let n = number(line, after: credit), n <= UInt64(Int.max) { return .credit(Int(n)) }
        return nil
    }

    /// The whole number between `prefix` and a closing `}` that ends the line, if that is all
    /// the line is.
    private static func number(_ line: UnsafeBufferPointer<UInt8>, after prefix: StaticString) -> UInt64? {
        let start = prefix.utf8CodeUnitCount
        guard line.count > start + 1, line[line.count - 1] == UInt8(ascii: "}"),
            memcmp(line.baseAddress!, prefix.utf8Start, start) == 0
        else { return nil }
        let end = line.count - 1
        // JSON writes no leading zero: `0` alone is the only number that starts with one.
        if line[start] == UInt8(ascii: "0") && end - start > 1 { return nil }
        var value: UInt64 = 0
        for i in start..<end {
            let digit = line[i] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// Appends the message as one JSON line, newline included: `ctl` first, then the message's
    /// fields in a fixed order (written by hand: JSONEncoder's key order is not stable on Linux,
    /// and readers take a line that starts with `{"ctl"` for a control line without a scan).
    public func appendLine(to out: inout [UInt8]) {
        out.appendLiteral(#"{"ctl":"#)
        JSONString.append(name, to: &out)
        switch self {
        case let .hello(hello):
            Self.key("versions", &out)
            Self.array(hello.versions, &out) { JSONString.append($0, to: &$1) }
            Self.key("stage", &out)
            JSONString.append(hello.stage, to: &out)
            Self.key("accepts", &out)
            Self.array(hello.accepts, &out) { JSONString.append($0, to: &$1) }
            Self.key("emits", &out)
            Self.array(hello.emits, &out) { JSONString.append($0, to: &$1) }
            if let nonce = hello.nonce {
                Self.key("nonce", &out)
                JSONString.append(nonce, to: &out)
            }
            if let proof = hello.proof {
                Self.key("proof", &out)
                JSONString.append(proof, to: &out)
            }
            if let mode = hello.mode {
                Self.key("mode", &out)
                JSONString.append(mode, to: &out)
            }
        case let .credit(n):
            Self.key("n", &out)
            JSONString.append(n, to: &out)
        case let .ack(seq):
            Self.key("seq", &out)
            JSONString.append(seq, to: &out)
        case let .nack(nack):
            Self.key("seq", &out)
            JSONString.append(nack.seq, to: &out)
            Self.key("code", &out)
            JSONString.append(nack.code.rawValue, to: &out)
            Self.key("message", &out)
            JSONString.append(nack.message, to: &out)
        case let .ping(id), let .pong(id):
            Self.key("id", &out)
            JSONString.append(id, to: &out)
        case let .health(status):
            if let status {
                Self.key("status", &out)
                JSONString.append(status.rawValue, to: &out)
            }
        case let .describe(service):
            if let service {
                Self.key("service", &out)
                Self.append(service, &out)
            }
        case .drain:
            break
        case let .bye(bye):
            Self.key("code", &out)
            JSONString.append(bye.code.rawValue, to: &out)
            Self.key("message", &out)
            JSONString.append(bye.message, to: &out)
        }
        out.appendLiteral("}\n")
    }

    private static func key(_ name: StaticString, _ out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: "\""))
        out.appendLiteral(name)
        out.appendLiteral(#"":"#)
    }

    private static func array<T>(_ items: [T], _ out: inout [UInt8], _ element: (T, inout [UInt8]) -> Void) {
        out.append(UInt8(ascii: "["))
        for (n, item) in items.enumerated() {
            if n > 0 { out.append(UInt8(ascii: ",")) }
            element(item, &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// A service definition, keys in declaration order, as `Protocol/services/*.json` has them.
    private static func append(_ service: ServiceDefinition, _ out: inout [UInt8]) {
        out.appendLiteral(#"{"name":"#)
        JSONString.append(service.name, to: &out)
        key("summary", &out)
        JSONString.append(service.summary, to: &out)
        key("accepts", &out)
        array(service.accepts, &out) { JSONString.append($0, to: &$1) }
        key("emits", &out)
        array(service.emits, &out) { JSONString.append($0, to: &$1) }
        key("options", &out)
        array(service.options, &out) { option, out in
            out.appendLiteral(#"{"name":"#)
            JSONString.append(option.name, to: &out)
            key("type", &out)
            JSONString.append(option.type, to: &out)
            if let value = option.default {
                key("default", &out)
                JSONString.append(value, to: &out)
            }
            key("help", &out)
            JSONString.append(option.help, to: &out)
            out.append(UInt8(ascii: "}"))
        }
        key("version", &out)
        JSONString.append(service.version, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// The message as one JSON line, without the newline.
    public var jsonLine: String {
        var out: [UInt8] = []
        appendLine(to: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    /// Every field any control message has, flat, as on the wire (for reading).
    private struct Wire: Decodable {
        var ctl: String
        var v: Int?
        var versions: [Int]?
        var stage: String?
        var accepts: [String]?
        var emits: [String]?
        var nonce: String?
        var proof: String?
        var mode: String?
        var n: Int?
        var seq: UInt64?
        var code: StatusCode?
        var message: String?
        var id: String?
        var status: HealthStatus?
        var service: ServiceDefinition?
    }
}
