import RunnelProtocol

/// When each message of a replay is due, from the gaps between the messages' `ts`.
///
/// A pure value: it reads no clock. The first timed message is due at 0; each later one at its
/// distance from the first, divided by the speed, with each gap cut to `maxGap` when there is
/// one. A message without `ts` (or with one no later than any before it) is due when the one
/// before it was, so the pace never runs backwards.
///
/// ```swift
/// var clock = ReplayClock(speed: .times(10))
/// let offset = clock.due(ts: "2026-11-29T13:00:05.000Z")   // after the first: 0.5 s later
/// ```
public struct ReplayClock: Sendable {
    /// How fast a replay goes.
    public enum Speed: Sendable, Hashable, CustomStringConvertible {
        /// As fast as the receiver's credit allows.
        case max
        /// The original pace multiplied by this factor (1 = as recorded).
        case times(Double)

        /// The factors accepted: a thousand times slower to a million times faster.
        public static let factors: ClosedRange<Double> = 0.001...1_000_000

        /// Parses `max`, `1`, `10`, `0.5`.
        /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` for anything else, or a factor outside
        ///   ``factors``.
        public init(parsing text: String) throws(RunnelError) {
            if text == "max" {
                self = .max
            } else if let factor = Double(text), Self.factors.contains(factor) {
                self = .times(factor)
            } else {
                throw RunnelError(
                    .invalidArgument,
                    "--speed takes max or a factor from 0.001 to 1000000 (1 = the original pace, 10 = ten times faster), not \"\(text)\"")
            }
        }

        public var description: String {
            switch self {
            case .max: "max"
            case let .times(factor): factor == factor.rounded() ? "\(Int(factor))" : "\(factor)"
            }
        }
    }

    public let speed: Speed
    /// The longest wait between two messages, whatever their `ts` say (`--max-gap`): a log with
    /// one wrong timestamp (a year ahead) must not hold the replay for a year.
    public let maxGap: Duration?
    /// The latest `ts` seen, in milliseconds.
    private var latest: Int64?
    /// When the last message was due, in milliseconds after the start.
    private var last: Double = 0
    /// A century: a log whose timestamps are absurdly far apart must not trap.
    private static let longest: Double = 3.2e12

    public init(speed: Speed, maxGap: Duration? = nil) {
        self.speed = speed
        self.maxGap = maxGap
    }

    /// How long after the replay's start the message with this `ts` is due: the one before's
    /// time plus the gap from the latest `ts` seen, divided by the speed (and cut to ``maxGap``).
    public mutating func due(ts: String?) -> Duration {
        guard case let .times(factor) = speed else { return .zero }
        guard let millis = ts.flatMap(Timestamp.parse) else { return .milliseconds(last) }
        guard let latest else {
            self.latest = millis
            return .milliseconds(last)
        }
        guard millis > latest else { return .milliseconds(last) }
        self.latest = millis
        var gap = (Double(millis) - Double(latest)) / factor
        if let maxGap { gap = min(gap, TimeSpan(maxGap).seconds * 1000) }
        last = min(last + gap, Self.longest)
        return .milliseconds(last)
    }
}
