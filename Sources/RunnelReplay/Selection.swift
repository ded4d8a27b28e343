import Foundation
import RunnelProtocol

/// Which messages of a log a replay sends: by type, by time, by field value, and how many.
///
/// ```swift
/// var selection = Selection()
/// selection.types = ["article.parsed"]
/// selection.since = try Selection.time("2026-11-29T13:00:00Z")
/// selection.conditions = [try .init(parsing: "meta.site=baotintuc.vn")]
/// if selection.accepts(message.envelope) { … }
/// ```
public struct Selection: Sendable {
    /// `FIELD=VALUE`: the envelope's value at a dotted path, compared as text.
    public struct Condition: Sendable, Hashable {
        public var path: String
        public var value: String

        /// Parses `body.url=https://…` (the first `=` splits).
        /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` without a `=` or a field.
        public init(parsing text: String) throws(RunnelError) {
            guard let equals = text.firstIndex(of: "="), equals != text.startIndex else {
                throw RunnelError(.invalidArgument, "--where needs FIELD=VALUE, e.g. body.url=https://example.vn/a or meta.site=vnexpress (got \"\(text)\")")
            }
            path = String(text[..<equals])
            value = String(text[text.index(after: equals)...])
        }

        /// Whether `json` (the whole envelope) has `value` at `path`: a string equal to it, or a
        /// number, boolean or null written that way.
        func holds(in json: JSONValue) -> Bool {
            switch json[path: path] {
            case let .string(text)?: return text == value
            case let .number(number)?: return Double(value) == number
            case let .bool(flag)?: return value == (flag ? "true" : "false")
            case .null?: return value == "null"
            default: return false
            }
        }
    }

    /// Keep only these types (none: all).
    public var types: Set<String> = []
    /// Keep messages made at or after this time (milliseconds since the epoch); a message
    /// without `ts` is kept only when no time bound is set.
    public var since: Int64?
    /// Keep messages made before this time.
    public var until: Int64?
    /// Every condition must hold.
    public var conditions: [Condition] = []
    /// Stop after this many selected messages.
    public var limit: Int?

    public init() {}

    /// Whether the message is selected (``limit`` aside: the caller counts).
    public func accepts(_ envelope: Envelope) -> Bool {
        if !types.isEmpty && !types.contains(envelope.type) { return false }
        if since != nil || until != nil {
            guard let ts = envelope.ts.flatMap(Timestamp.parse) else { return false }
            if let since, ts < since { return false }
            if let until, ts >= until { return false }
        }
        if !conditions.isEmpty {
            guard let json = Self.json(of: envelope) else { return false }
            return conditions.allSatisfy { $0.holds(in: json) }
        }
        return true
    }

    /// The envelope as a generic JSON value (what `--where` looks into).
    static func json(of envelope: Envelope) -> JSONValue? {
        var line: [UInt8] = []
        envelope.appendLine(to: &line)
        return line.withUnsafeBufferPointer { try? JSONValue(parsing: $0) }
    }

    /// Reads a time bound: RFC 3339 (`2026-11-29T13:00:00Z`), or how long before `now`, as a
    /// duration (`30s`, `10m`, `2h`, `1d`; ``TimeSpan``'s syntax). The old spelling with a minus
    /// sign (`-10m`) is read too; ``isLegacyTime(_:)`` tells the caller to warn.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` saying what is accepted.
    public static func time(_ text: String, now: Date = Date()) throws(RunnelError) -> Int64 {
        if let millis = Timestamp.parse(text) { return millis }
        let ago = isLegacyTime(text) ? String(text.dropFirst()) : text
        guard let span = try? TimeSpan(parsing: ago) else {
            throw RunnelError(
                .invalidArgument,
                "\"\(text)\" is not a time: give RFC 3339 (2026-11-29T13:00:00Z, or with +07:00) or how long ago (30s, 10m, 2h, 1d)")
        }
        return Int64(now.timeIntervalSince1970 * 1000) - Int64(span.milliseconds)
    }

    /// Whether `text` is a time ago in the deprecated form with a minus sign (`-10m`).
    public static func isLegacyTime(_ text: String) -> Bool {
        text.hasPrefix("-") && (try? TimeSpan(parsing: String(text.dropFirst()))) != nil
    }
}
