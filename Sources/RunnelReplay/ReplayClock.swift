import RunnelProtocol

/// When each message of a replay is due, from the gaps between the messages' `ts`.
///
/// A pure value: it reads no clock. The first timed message is due at 0; each later one at its
/// distance from the first, divided by the speed. A message without `ts` (or with an earlier one
/// than the message before) is due when the one before it was, so the pace never runs backwards.
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
    private var first: Int64?
    private var last: Duration = .zero

    public init(speed: Speed) {
        self.speed = speed
    }

    /// How long after the replay's start the message with this `ts` is due.
    public mutating func due(ts: String?) -> Duration {
        guard case let .times(factor) = speed else { return .zero }
        guard let millis = ts.flatMap(Timestamp.parse) else { return last }
        guard let first else {
            self.first = millis
            return last
        }
        // Clamped to a century: a log whose timestamps are absurdly far apart must not trap.
        let millisAfterFirst = min(max((Double(millis) - Double(first)) / factor, 0), 3.2e12)
        let offset = Duration.milliseconds(millisAfterFirst)
        last = Swift.max(last, offset)
        return last
    }
}
