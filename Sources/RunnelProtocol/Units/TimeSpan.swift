/// A length of time as a person writes it on a command line or in a pipeline file: `250ms`,
/// `30s`, `10m`, `1h`, `2d`, or a sum of those (`1h30m`). Every duration flag and pipeline key
/// reads this one syntax.
///
/// Parsing never traps: a value beyond ``maximum`` (a hundred years), a negative one, or a
/// number with too many digits is refused with a message that says what was wrong.
///
/// ```swift
/// let timeout = try TimeSpan(parsing: "1m30s")   // 90 seconds
/// print(timeout)                                 // "1m30s"
/// ```
public struct TimeSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The length, in nanoseconds (never negative, at most ``maximum``).
    public let nanoseconds: Int64
    /// The text read was a bare number in the caller's legacy unit (`30` for 30 seconds).
    public private(set) var isLegacy = false

    /// The longest span accepted: 36,500 days.
    public static let maximum = TimeSpan(unchecked: 36_500 * 86_400 * 1_000_000_000)
    public static let zero = TimeSpan(unchecked: 0)

    private init(unchecked nanoseconds: Int64) { self.nanoseconds = nanoseconds }

    public static func milliseconds(_ n: Int) -> TimeSpan { TimeSpan(clamping: Int64(clamping: n), scale: 1_000_000) }
    public static func seconds(_ n: Int) -> TimeSpan { TimeSpan(clamping: Int64(clamping: n), scale: 1_000_000_000) }

    /// The span of a Swift `Duration`, clamped to `0...maximum`, rounded down to nanoseconds.
    public init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let (whole, overflow) = max(seconds, 0).multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, overflow2) = whole.addingReportingOverflow(seconds < 0 ? 0 : attoseconds / 1_000_000_000)
        self.init(unchecked: overflow || overflow2 ? Self.maximum.nanoseconds : min(sum, Self.maximum.nanoseconds))
    }

    private init(clamping count: Int64, scale: Int64) {
        let (product, overflow) = max(count, 0).multipliedReportingOverflow(by: scale)
        nanoseconds = overflow ? Self.maximum.nanoseconds : min(product, Self.maximum.nanoseconds)
    }

    /// The units, longest first, as they are written.
    private static let units: [(name: String, nanoseconds: Int64)] = [
        ("d", 86_400_000_000_000), ("h", 3_600_000_000_000), ("m", 60_000_000_000), ("s", 1_000_000_000),
        ("ms", 1_000_000), ("us", 1_000), ("µs", 1_000), ("ns", 1),
    ]

    /// Parses `250ms`, `30s`, `1.5s`, `10m`, `1h30m`, `2d`.
    ///
    /// - Parameter legacyUnit: a bare number (`30`) is taken in this unit instead of refused:
    ///   for flags and keys that used to take plain seconds or milliseconds. The caller warns.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` saying what is wrong and showing the syntax.
    public init(parsing text: String, legacyUnit: TimeSpan? = nil) throws(RunnelError) {
        let trimmed = text.trimmingWhitespace
        if let legacyUnit, let number = DecimalNumber(parsing: trimmed) {
            self = try Self.scaled(number, by: legacyUnit.nanoseconds, text: text)
            isLegacy = true
            return
        }
        guard !trimmed.isEmpty else { throw Self.syntaxError(text, "it is empty") }
        var rest = Substring(trimmed)
        var total: Int64 = 0
        while !rest.isEmpty {
            let digits = rest.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
            guard let number = DecimalNumber(parsing: String(digits)) else {
                throw Self.syntaxError(text, digits.isEmpty ? "a number must come before each unit" : "'\(digits)' is not a number")
            }
            rest = rest.dropFirst(digits.count)
            let unitText = rest.prefix { !($0.isASCII && ($0.isNumber || $0 == ".")) }
            guard let unit = Self.units.first(where: { $0.name == unitText.lowercased() }) else {
                throw Self.syntaxError(
                    text, unitText.isEmpty ? "'\(digits)' has no unit" : "'\(unitText)' is not a unit of time")
            }
            rest = rest.dropFirst(unitText.count)
            let part = try Self.scaled(number, by: unit.nanoseconds, text: text)
            let (sum, overflow) = total.addingReportingOverflow(part.nanoseconds)
            guard !overflow, sum <= Self.maximum.nanoseconds else { throw Self.tooLong(text) }
            total = sum
        }
        self.init(unchecked: total)
    }

    private static func scaled(_ number: DecimalNumber, by unit: Int64, text: String) throws(RunnelError) -> TimeSpan {
        guard let nanoseconds = number.times(unit), nanoseconds <= maximum.nanoseconds else { throw tooLong(text) }
        return TimeSpan(unchecked: nanoseconds)
    }

    private static func syntaxError(_ text: String, _ why: String) -> RunnelError {
        RunnelError(.invalidArgument, "'\(text)' is not a duration: \(why) (write it as 250ms, 30s, 10m, 1h or 1h30m)")
    }

    private static func tooLong(_ text: String) -> RunnelError {
        RunnelError(.invalidArgument, "'\(text)' is longer than the 36500 days a duration may be")
    }

    /// The same length as a Swift `Duration`.
    public var duration: Duration { .nanoseconds(nanoseconds) }

    /// Whole milliseconds, rounded down.
    public var milliseconds: Int { Int(nanoseconds / 1_000_000) }

    /// Seconds, as a floating-point number.
    public var seconds: Double { Double(nanoseconds) / 1e9 }

    /// The shortest exact spelling: `250ms`, `30s`, `1h30m`, `0s`. Whole seconds are written in
    /// days, hours, minutes and seconds; a span with a fraction of a second is written whole in
    /// the largest unit that is exact (`1500ms`).
    public var description: String {
        guard nanoseconds > 0 else { return "0s" }
        let second: Int64 = 1_000_000_000
        if nanoseconds % second != 0 {
            let unit = Self.units.first { $0.nanoseconds < second && $0.name != "µs" && nanoseconds % $0.nanoseconds == 0 }!
            return "\(nanoseconds / unit.nanoseconds)\(unit.name)"
        }
        var rest = nanoseconds
        var text = ""
        for unit in Self.units where unit.nanoseconds >= second && rest >= unit.nanoseconds {
            text += "\(rest / unit.nanoseconds)\(unit.name)"
            rest %= unit.nanoseconds
        }
        return text
    }

    public static func < (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds < b.nanoseconds }
    public static func == (a: TimeSpan, b: TimeSpan) -> Bool { a.nanoseconds == b.nanoseconds }
    public func hash(into hasher: inout Hasher) { hasher.combine(nanoseconds) }
}

/// A non-negative decimal number as written (`12`, `1.5`, `.25`), kept exactly, so that scaling
/// it by a unit neither traps nor rounds through a `Double`.
struct DecimalNumber {
    var integer: Int64
    var fraction: Int64
    var fractionDigits: Int

    init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !text.isEmpty, text != ".", parts.allSatisfy({ $0.allSatisfy { $0.isASCII && $0.isNumber } }) else { return nil }
        let whole = parts[0].drop { $0 == "0" }
        // 18 digits always fit an Int64; more would only be refused later as too large.
        guard whole.count <= 18 else {
            integer = .max
            fraction = 0
            fractionDigits = 0
            return
        }
        integer = Int64(whole) ?? 0
        let decimals = parts.count > 1 ? parts[1].prefix(9) : ""
        fraction = Int64(decimals) ?? 0
        fractionDigits = decimals.count
    }

    /// `self × unit`, rounded down, or `nil` when it does not fit an `Int64`.
    func times(_ unit: Int64) -> Int64? {
        let (whole, overflow) = integer.multipliedReportingOverflow(by: unit)
        guard !overflow else { return nil }
        var divisor: Int64 = 1
        for _ in 0..<fractionDigits { divisor *= 10 }
        // fraction < divisor, so neither product can overflow.
        let part = (unit / divisor) * fraction + (unit % divisor) * fraction / divisor
        let (sum, overflow2) = whole.addingReportingOverflow(part)
        return overflow2 ? nil : sum
    }
}

extension String {
    var trimmingWhitespace: Substring {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text.removeFirst() }
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

