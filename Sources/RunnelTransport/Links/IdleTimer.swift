/// When to ping a silent peer and when to give up on it (`PROTOCOL.md` §7.6), as a pure value:
/// it reads no clock and sends nothing; callers pass the time and act on what it returns.
///
/// A link may be quiet for a long time between stages; only a peer that answers nothing is
/// dead. After a third of the timeout without a line from the peer, ping it (and again each
/// third); a live peer answers `pong`, which counts as hearing from it. A peer heard from not
/// once in the whole timeout gets `bye` `DEADLINE_EXCEEDED` and is closed.
///
/// ```swift
/// var timer = IdleTimer(timeout: .seconds(30))
/// switch timer.check(now: .now, lastHeard: link.lastHeard) {
/// case let .wait(until): try await Task.sleep(until: until)
/// case let .ping(id): writer.send(.ping(id: id))
/// case .close: writer.send(.bye(…)); connection.close()
/// }
/// ```
public struct IdleTimer: Sendable {
    public typealias Instant = ContinuousClock.Instant

    /// What to do now.
    public enum Action: Equatable, Sendable {
        /// Nothing until then (check again at that instant).
        case wait(until: Instant)
        /// Send `ping` with this id.
        case ping(id: String)
        /// The peer said nothing for the whole timeout: `bye` `DEADLINE_EXCEEDED`, then close.
        case close
    }

    /// Silence after which the link is closed.
    public let timeout: Duration
    /// Silence after which the peer is pinged, and the time between pings: a third of the timeout.
    public var pingInterval: Duration { timeout / 3 }
    private var lastPing: Instant?
    private var pings = 0

    public init(timeout: Duration) {
        self.timeout = timeout
    }

    /// What to do at `now`, the peer's last line having come at `lastHeard`.
    public mutating func check(now: Instant, lastHeard: Instant) -> Action {
        let silence = lastHeard.duration(to: now)
        if silence >= timeout { return .close }
        // The next ping is due a ping interval after the last line heard or the last ping,
        // whichever is later.
        var due = lastHeard + pingInterval
        if let lastPing, lastPing > lastHeard { due = lastPing + pingInterval }
        if now >= due {
            lastPing = now
            pings += 1
            return .ping(id: "idle-\(pings)")
        }
        return .wait(until: min(due, lastHeard + timeout))
    }
}
