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

    /// Decodes a data line; sets `hasControlKey` (and throws) when the line has `ctl`.
    init(line: UnsafeBufferPointer<UInt8>, hasControlKey: inout Bool) throws(RunnelError) {
        let layout = try EnvelopeLayout(line: line, hasControlKey: &hasControlKey)
        func string(_ range: Range<Int>) -> String { JSONString.decode(line, range) }
        self.init(
            id: string(layout.id), seq: layout.seq, type: string(layout.type), ts: layout.ts.map(string),
            attempt: layout.attempt, deadlineMs: layout.deadlineMs, trace: layout.trace.map(string),
            parent: layout.parent.map(string), meta: layout.meta.map { Self.decodeMeta(line, $0) } ?? [:],
            body: RawJSON(validated: Array(UnsafeBufferPointer(rebasing: line[layout.body]))))
    }

    /// Decodes one line given as bytes.
    public init(line: some Collection<UInt8>) throws(RunnelError) {
        let bytes = Array(line)
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RunnelError) in try Envelope(line: buffer) }
    }

    /// Appends the message as one JSON line, newline included.
    public func appendLine(to out: inout [UInt8]) {
        appendLine(to: &out, seq: seq)
    }

    /// Appends the message as one JSON line with `seq` in place of its own (`nil`: none), as a
    /// link's writer numbers it: no copy of the message is made to change one field (issue 14).
    public func appendLine(to out: inout [UInt8], seq: UInt64?) {
        // Room for a large body at once, still doubling: growing by appends copied a 170 KB page
        // into ever larger buffers several times over (issue 14).
        let needed = out.count + body.bytes.count + 256
        if needed > out.capacity { out.reserveCapacity(Swift.max(needed, 2 * out.capacity)) }
        out.appendLiteral(#"{"id":"#)
        JSONString.append(id, to: &out)
        if let seq {
            out.appendLiteral(#","seq":"#)
            JSONString.append(seq, to: &out)
        }
        out.appendLiteral(#","type":"#)
        JSONString.append(type, to: &out)
        if let ts {
            out.appendLiteral(#","ts":"#)
            JSONString.append(ts, to: &out)
        }
        out.appendLiteral(#","attempt":"#)
        JSONString.append(attempt, to: &out)
        if let deadlineMs {
            out.appendLiteral(#","deadline_ms":"#)
            JSONString.append(deadlineMs, to: &out)
        }
        if let trace {
            out.appendLiteral(#","trace":"#)
            JSONString.append(trace, to: &out)
        }
        if let parent {
            out.appendLiteral(#","parent":"#)
            JSONString.append(parent, to: &out)
        }
        if !meta.isEmpty {
            out.appendLiteral(#","meta":{"#)
            for (n, key) in meta.keys.sorted().enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.append(key, to: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.append(meta[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.appendLiteral(#","body":"#)
        out.append(contentsOf: body.bytes)
        out.appendLiteral("}\n")
    }

    /// The message as one JSON line, without the newline.
    public var jsonLine: String {
        var out: [UInt8] = []
        appendLine(to: &out)
        out.removeLast()
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: Field helpers

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
            // A negative number is built downwards: Int64.min has no positive counterpart.
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(d)) : m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = s
            i += 1
        }
        return value
    }

    /// Decodes `meta`, already checked by ``EnvelopeLayout`` to be an object of strings.
    private static func decodeMeta(_ line: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [String: String] {
        var meta: [String: String] = [:]
        let slice = UnsafeBufferPointer(rebasing: line[range])
        var scanner = JSONScanner(slice)
        try? scanner.scanObject { key, value in
            meta[JSONString.decode(slice, key)] = JSONString.decode(slice, value.lowerBound + 1..<value.upperBound - 1)
        }
        return meta
    }
}
