/// A reading of the `ContinuousClock`, kept as the time since an origin the process took once.
///
/// `ContinuousClock.Instant` is not frozen (Swift's concurrency library is built for library
/// evolution), so a struct that holds one has no fixed layout outside that library: each copy
/// of it, and of every array of it, goes through the runtime's value-witness calls. A link keeps
/// a time in each message's queue entry and window slot, and a relay paid ~1,000 instructions a
/// message in those calls (issue 14). `Duration` is frozen, and so is this.
///
/// ```swift
/// let sent = ClockReading.now
/// if sent.duration(to: .now) > .seconds(30) { resend() }
/// ```
@frozen
public struct ClockReading: Sendable, Hashable, Comparable {
    @usableFromInline let sinceOrigin: Duration

    @inlinable init(sinceOrigin: Duration) {
        self.sinceOrigin = sinceOrigin
    }

    /// Where every reading is measured from: the first time one is made in the process.
    @usableFromInline static let origin = ContinuousClock.now

    /// The clock now.
    @inlinable public static var now: ClockReading { ClockReading(ContinuousClock.now) }

    /// The reading of `instant`.
    @inlinable public init(_ instant: ContinuousClock.Instant) {
        sinceOrigin = Self.origin.duration(to: instant)
    }

    /// The same point as a `ContinuousClock.Instant`.
    @inlinable public var instant: ContinuousClock.Instant { Self.origin.advanced(by: sinceOrigin) }

    /// The time from this reading to `other` (negative when `other` is earlier).
    @inlinable public func duration(to other: ClockReading) -> Duration { other.sinceOrigin - sinceOrigin }

    @inlinable public static func < (lhs: ClockReading, rhs: ClockReading) -> Bool { lhs.sinceOrigin < rhs.sinceOrigin }
}
