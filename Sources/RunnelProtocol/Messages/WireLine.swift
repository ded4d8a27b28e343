/// One line of a link: a data message or a control message.
public enum WireLine: Sendable, Hashable {
    case data(Envelope)
    case control(ControlMessage)

    /// Decodes one line (without its newline). A line with `ctl` is a control message, whatever
    /// else it has; any other line is a data message and needs `type`.
    /// - Throws: ``RunnelError`` (`INVALID_ARGUMENT`, `UNIMPLEMENTED`) saying what is wrong.
    public init(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) {
        let kind = if let quick = Self.quickKind(of: line) { quick } else { try Self.kind(of: line) }
        switch kind {
        case .control: self = .control(try ControlMessage(line: line))
        case .data:
            // The quick look saw `id` first; a `ctl` further on still makes it a control line.
            var hasControlKey = false
            do throws(RunnelError) {
                self = .data(try Envelope(line: line, hasControlKey: &hasControlKey))
            } catch {
                guard hasControlKey else { throw error }
                self = .control(try ControlMessage(line: line))
            }
        }
    }

    public init(line: some Collection<UInt8>) throws(RunnelError) {
        let bytes = Array(line)
        self = try bytes.withUnsafeBufferPointer { (buffer) throws(RunnelError) in try WireLine(line: buffer) }
    }

    /// Checks a line completely without decoding it, for readers that pass lines on unchanged.
    /// - Returns: the layout of a data line, or `nil` for a valid control line.
    /// - Throws: ``RunnelError`` saying what is wrong, as ``init(line:)`` would.
    public static func check(line: UnsafeBufferPointer<UInt8>) throws(RunnelError) -> EnvelopeLayout? {
        let kind = if let quick = quickKind(of: line) { quick } else { try Self.kind(of: line) }
        switch kind {
        case .control:
            _ = try ControlMessage(line: line)
            return nil
        case .data:
            var hasControlKey = false
            do throws(RunnelError) {
                return try EnvelopeLayout(line: line, hasControlKey: &hasControlKey)
            } catch {
                guard hasControlKey else { throw error }
                _ = try ControlMessage(line: line)
                return nil
            }
        }
    }

    public func appendLine(to out: inout [UInt8]) {
        switch self {
        case let .data(envelope): envelope.appendLine(to: &out)
        case let .control(control): control.appendLine(to: &out)
        }
    }

    enum Kind { case data, control }

    /// Runnel's own writers put `id` or `ctl` first, which settles the kind without a scan; the
    /// decoder of that kind still checks the whole line.
    @inline(__always) static func quickKind(of line: UnsafeBufferPointer<UInt8>) -> Kind? {
        guard line.count > 7, line[0] == UInt8(ascii: "{"), line[1] == UInt8(ascii: "\"") else { return nil }
        if line[2] == UInt8(ascii: "i"), line[3] == UInt8(ascii: "d"), line[4] == UInt8(ascii: "\"") { return .data }
        if line[2] == UInt8(ascii: "c"), line[3] == UInt8(ascii: "t"), line[4] == UInt8(ascii: "l"),
            line[5] == UInt8(ascii: "\"")
        {
            return .control
        }
        return nil
    }

    /// Tells a data line from a control line by its keys, checking the line's JSON on the way.
    static func kind(of line: UnsafeBufferPointer<UInt8>) throws(RunnelError) -> Kind {
        var scanner = JSONScanner(line)
        var kind: Kind?
        do {
            try scanner.scanObject { key, _ in
                if key.count == 3, line[key.lowerBound] == UInt8(ascii: "c"), line[key.lowerBound + 1] == UInt8(ascii: "t"),
                    line[key.lowerBound + 2] == UInt8(ascii: "l")
                {
                    kind = .control
                } else if kind == nil, key.count == 4, line[key.lowerBound] == UInt8(ascii: "t"),
                    line[key.lowerBound + 1] == UInt8(ascii: "y"), line[key.lowerBound + 2] == UInt8(ascii: "p"),
                    line[key.lowerBound + 3] == UInt8(ascii: "e")
                {
                    kind = .data
                }
            }
            try scanner.expectEnd()
        } catch let error as JSONSyntaxError {
            throw RunnelError(.invalidArgument, "not valid JSON: \(error)")
        } catch {
            throw RunnelError(.invalidArgument, "\(error)")
        }
        guard let kind else {
            throw RunnelError(.invalidArgument, "a line needs \"type\" (a data message) or \"ctl\" (a control message)")
        }
        return kind
    }
}
