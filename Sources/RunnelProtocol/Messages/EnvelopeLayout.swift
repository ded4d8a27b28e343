/// Where each header field of a data line is: checked, but not decoded.
///
/// One pass over the line validates all of it (grammar, UTF-8, the type of every header field,
/// the protocol version) without allocating; ``Envelope/init(line:)`` then decodes only the
/// fields it keeps, and readers that only pass lines on (`runnel cat`, relays) stop here.
public struct EnvelopeLayout {
    public var id: Range<Int>
    public var type: Range<Int>
    public var body: Range<Int>
    public var seq: UInt64?
    public var attempt: Int
    public var deadlineMs: Int64?
    var ts: Range<Int>?
    var trace: Range<Int>?
    var parent: Range<Int>?
    var meta: Range<Int>?

    /// Scans a data line (without its newline).
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` for bad JSON, bad UTF-8, a missing or
    ///   mistyped field; `UNIMPLEMENTED` for an unknown protocol version.
    public init(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        var hasControlKey = false
        try self.init(line: line, hasControlKey: &hasControlKey)
    }

    /// Scans a data line; sets `hasControlKey` (and throws) when the line has `ctl`, which makes
    /// it a control message wherever `ctl` is among its keys (``WireLine`` then decodes it so).
    init(line: UnsafeBufferPointer<UInt8>, hasControlKey: inout Bool) throws(RunnelError) {
        var id: Range<Int>?
        var type: Range<Int>?
        var body: Range<Int>?
        var seq: UInt64?
        var attempt = 1
        var deadline: Int64?
        var ts: Range<Int>?
        var trace: Range<Int>?
        var parent: Range<Int>?
        var meta: Range<Int>?
        var version: Int64?
        var sawControlKey = false
        var fieldError: RunnelError?

        var scanner = JSONScanner(line)
        do {
            try scanner.scanObject { key, value in
                let first = line[value.lowerBound]
                let isNull = first == UInt8(ascii: "n")
                func string(_ name: String) throws(RunnelError) -> Range<Int> {
                    guard first == UInt8(ascii: "\"") else {
                        throw RunnelError(.invalidArgument, "field \"\(name)\": expected a string")
                    }
                    return value.lowerBound + 1..<value.upperBound - 1
                }
                func integer(_ name: String) throws(RunnelError) -> Int64 {
                    guard let n = Envelope.parseInteger(line, value) else {
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
                case .body: body = value
                case .seq:
                    if isNull { break }  // null is absent (PROTOCOL.md §2.1)
                    let n = try integer("seq")
                    guard n >= 0 else { throw RunnelError(.invalidArgument, "field \"seq\": must not be negative") }
                    seq = UInt64(n)
                case .ts: ts = isNull ? nil : try string("ts")
                case .attempt: if !isNull { attempt = Int(try integer("attempt")) }
                case .deadline: deadline = isNull ? nil : try integer("deadline_ms")
                case .trace: trace = isNull ? nil : try string("trace")
                case .parent: parent = isNull ? nil : try string("parent")
                case .version: if !isNull { version = try integer("v") }
                case .meta:
                    if isNull { break }
                    try Self.checkMeta(line, value)
                    meta = value
                case .control: sawControlKey = true
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
        if let version, version != Int64(Envelope.protocolVersion) {
            throw RunnelError(
                .unimplemented,
                "protocol version \(version) is not supported (this runnel speaks version \(Envelope.protocolVersion))")
        }
        guard let id, !id.isEmpty else { throw RunnelError(.invalidArgument, "missing required field \"id\"") }
        guard let type, !type.isEmpty else { throw RunnelError(.invalidArgument, "missing required field \"type\"") }
        guard let body else { throw RunnelError(.invalidArgument, "missing required field \"body\"") }
        self.id = id
        self.type = type
        self.body = body
        self.seq = seq
        self.attempt = attempt
        self.deadlineMs = deadline
        self.ts = ts
        self.trace = trace
        self.parent = parent
        self.meta = meta
    }

    /// Whether the line's `type` is exactly `name` (compared as bytes; types are plain ASCII).
    public func type(in line: UnsafeBufferPointer<UInt8>, is name: [UInt8]) -> Bool {
        guard type.count == name.count else { return false }
        return name.withUnsafeBufferPointer { memcmp(line.baseAddress! + type.lowerBound, $0.baseAddress!, name.count) == 0 }
    }

    // MARK: Keys

    enum Key { case id, seq, type, ts, attempt, deadline, trace, parent, meta, body, version, control, other }

    static func key(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Key {
        func equals(_ name: StaticString) -> Bool {
            memcmp(line.baseAddress! + range.lowerBound, name.utf8Start, range.count) == 0
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

    private static func checkMeta(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) throws(RunnelError) {
        guard line[range.lowerBound] == UInt8(ascii: "{") else {
            throw RunnelError(.invalidArgument, "field \"meta\": expected an object of strings")
        }
        var scanner = JSONScanner(UnsafeBufferPointer(rebasing: line[range]))
        do {
            try scanner.scanObject { _, value in
                guard line[range.lowerBound + value.lowerBound] == UInt8(ascii: "\"") else {
                    throw RunnelError(.invalidArgument, "field \"meta\": values must be strings")
                }
            }
        } catch let error as RunnelError {
            throw error
        } catch {
            throw RunnelError(.invalidArgument, "field \"meta\": \(error)")
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
