extension Envelope {
    /// The protocol version this implementation speaks. An envelope may say `"v":1`; any other
    /// value is refused with `UNIMPLEMENTED`.
    public static let protocolVersion = 1

    /// Decodes one line (without its newline) that is already known to be a data message.
    ///
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` for bad JSON, bad UTF-8, a missing or
    ///   mistyped field; `UNIMPLEMENTED` for an unknown protocol version.
    public init(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        var hasControlKey = false
        try self.init(line: line, hasControlKey: &hasControlKey)
    }

    /// Decodes a data line; sets `hasControlKey` (and throws) when the line has `ctl`, which makes
    /// it a control message wherever `ctl` is among its keys (``WireLine`` then decodes it so).
    init(line: UnsafeBufferPointer<UInt8>, hasControlKey: inout Bool) throws(RunnelError) {
        var id: String?
        var seq: UInt64?
        var type: String?
        var ts: String?
        var attempt = 1
        var deadline: Int64?
        var trace: String?
        var parent: String?
        var meta: [String: String] = [:]
        var body: RawJSON?
        var version: Int?
        var sawControlKey = false
        var fieldError: RunnelError?

        var scanner = JSONScanner(line)
        do {
            try scanner.scanObject { key, value in
                let first = line[value.lowerBound]
                func string(_ name: String) throws(RunnelError) -> String {
                    guard first == UInt8(ascii: "\"") else {
                        throw RunnelError(.invalidArgument, "field \"\(name)\": expected a string")
                    }
                    return JSONString.decode(line, value.lowerBound + 1..<value.upperBound - 1)
                }
                func optionalString(_ name: String) throws(RunnelError) -> String? {
                    first == UInt8(ascii: "n") ? nil : try string(name)
                }
                func integer(_ name: String) throws(RunnelError) -> Int64 {
                    guard let n = Self.parseInteger(line, value) else {
                        throw RunnelError(.invalidArgument, "field \"\(name)\": expected an integer")
                    }
                    return n
                }
                // A field error waits for the end of the scan: a `ctl` later on makes the line a
                // control message, which does not have these fields.
                do throws(RunnelError) {
                    switch Self.key(line, key) {
                    case .id: id = try string("id")
                    case .type: type = try string("type")
                    case .body: body = RawJSON(validated: Array(UnsafeBufferPointer(rebasing: line[value])))
                    case .seq:
                        let n = try integer("seq")
                        guard n >= 0 else { throw RunnelError(.invalidArgument, "field \"seq\": must not be negative") }
                        seq = UInt64(n)
                    case .ts: ts = try optionalString("ts")
                    case .attempt: attempt = Int(try integer("attempt"))
                    case .deadline:
                        deadline = first == UInt8(ascii: "n") ? nil : try integer("deadline_ms")
                    case .trace: trace = try optionalString("trace")
                    case .parent: parent = try optionalString("parent")
                    case .version: version = Int(try integer("v"))
                    case .control: sawControlKey = true
                    case .meta:
                        if first == UInt8(ascii: "n") { break }
                        guard first == UInt8(ascii: "{") else {
                            throw RunnelError(.invalidArgument, "field \"meta\": expected an object of strings")
                        }
                        meta = try Self.decodeMeta(line, value)
                    case .other: break
                    }
                } catch {
                    if fieldError == nil { fieldError = error }
                }
            }
            try scanner.expectEnd()
        } catch let error as JSONSyntaxError {
            throw RunnelError(.invalidArgument, "not valid JSON: \(error)")
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.invalidArgument, "\(error)")
        }
        if sawControlKey {
            hasControlKey = true
            throw RunnelError(.invalidArgument, "the line has \"ctl\": it is a control message, not a data message")
        }
        if let fieldError { throw fieldError }
        if let version, version != Self.protocolVersion {
            throw RunnelError(
                .unimplemented,
                "protocol version \(version) is not supported (this runnel speaks version \(Self.protocolVersion))")
        }
        guard let id, !id.isEmpty else { throw RunnelError(.invalidArgument, "missing required field \"id\"") }
        guard let type, !type.isEmpty else { throw RunnelError(.invalidArgument, "missing required field \"type\"") }
        guard let body else { throw RunnelError(.invalidArgument, "missing required field \"body\"") }
        self.init(
            id: id, seq: seq, type: type, ts: ts, attempt: attempt, deadlineMs: deadline, trace: trace,
            parent: parent, meta: meta, body: body)
    }

    /// Decodes one line given as bytes.
    public init(line: some Collection<UInt8>) throws(RunnelError) {
        let bytes = Array(line)
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RunnelError) in try Envelope(line: buffer) }
    }

    /// Appends the message as one JSON line, newline included.
    public func appendLine(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"id":"#.utf8)
        JSONString.append(id, to: &out)
        if let seq {
            out.append(contentsOf: #","seq":"#.utf8)
            JSONString.append(seq, to: &out)
        }
        out.append(contentsOf: #","type":"#.utf8)
        JSONString.append(type, to: &out)
        if let ts {
            out.append(contentsOf: #","ts":"#.utf8)
            JSONString.append(ts, to: &out)
        }
        out.append(contentsOf: #","attempt":"#.utf8)
        JSONString.append(attempt, to: &out)
        if let deadlineMs {
            out.append(contentsOf: #","deadline_ms":"#.utf8)
            JSONString.append(deadlineMs, to: &out)
        }
        if let trace {
            out.append(contentsOf: #","trace":"#.utf8)
            JSONString.append(trace, to: &out)
        }
        if let parent {
            out.append(contentsOf: #","parent":"#.utf8)
            JSONString.append(parent, to: &out)
        }
        if !meta.isEmpty {
            out.append(contentsOf: #","meta":{"#.utf8)
            for (n, key) in meta.keys.sorted().enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.append(meta[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #","body":"#.utf8)
        out.append(contentsOf: body.bytes)
        out.append(contentsOf: "}\n".utf8)
    }

    /// The message as one JSON line, without the newline.
    public var jsonLine: String {
        var out: [UInt8] = []
        appendLine(to: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Field helpers

    private enum Key { case id, seq, type, ts, attempt, deadline, trace, parent, meta, body, version, control, other }

    private static func key(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Key {
        func equals(_ name: StaticString) -> Bool {
            guard range.count == name.utf8CodeUnitCount else { return false }
            let p = name.utf8Start
            for k in 0..<range.count where line[range.lowerBound + k] != p[k] { return false }
            return true
        }
        switch range.count {
        case 1: return equals("v") ? .version : .other
        case 2: return equals("id") ? .id : equals("ts") ? .ts : .other
        case 3: return equals("seq") ? .seq : equals("ctl") ? .control : .other
        case 4: return equals("type") ? .type : equals("body") ? .body : equals("meta") ? .meta : .other
        case 5: return equals("trace") ? .trace : .other
        case 6: return equals("parent") ? .parent : .other
        case 7: return equals("attempt") ? .attempt : .other
        case 11: return equals("deadline_ms") ? .deadline : .other
        default: return .other
        }
    }

    static func parseInteger(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int64? {
        var i = range.lowerBound
        var negative = false
        if line[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < range.upperBound else { return nil }
        var value: Int64 = 0
        while i < range.upperBound {
            let d = line[i] &- 0x30
            guard d < 10 else { return nil }  // fractions and exponents are not integers here
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = s
            i += 1
        }
        return negative ? -value : value
    }

    private static func decodeMeta(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(RunnelError) -> [String: String] {
        var meta: [String: String] = [:]
        let slice = UnsafeBufferPointer(rebasing: line[range])
        var scanner = JSONScanner(slice)
        do {
            try scanner.scanObject { key, value in
                guard slice[value.lowerBound] == UInt8(ascii: "\"") else {
                    throw RunnelError(.invalidArgument, "field \"meta\": values must be strings")
                }
                meta[JSONString.decode(slice, key)] = JSONString.decode(slice, value.lowerBound + 1..<value.upperBound - 1)
            }
        } catch let error as JSONSyntaxError {
            throw RunnelError(.invalidArgument, "field \"meta\": \(error.reason)")
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.invalidArgument, "\(error)")
        }
        return meta
    }
}
