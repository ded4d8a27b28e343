import RunnelTransport

/// When a stage exits, what the supervisor does — as OTP supervisors decide it, as a pure state
/// machine: no processes, no clock (callers pass `now`), no randomness (callers pass `jitter`).
///
/// ```swift
/// var policy = RestartPolicy(configuration: .init(strategy: .restForOne))
/// switch policy.exited("parse", status: .signaled(9), order: ["fetch", "parse", "store"], now: .now) {
/// case let .restart(stages, after): …      // ["parse", "store"] after 100 ms
/// case let .giveUp(reason): …
/// case .leaveDown: …
/// }
/// ```
public struct RestartPolicy: Sendable {
    /// Which stages restart when one exits.
    public enum Strategy: String, Sendable, CaseIterable {
        /// Only the one that exited.
        case oneForOne = "one_for_one"
        /// It and every stage after it in the pipeline.
        case restForOne = "rest_for_one"
        /// All of them.
        case oneForAll = "one_for_all"
    }

    /// Whether a stage is restarted at all.
    public enum RestartType: String, Sendable, CaseIterable {
        /// Always.
        case permanent
        /// Only after an abnormal exit (not status 0).
        case transient
        /// Never.
        case temporary
    }

    /// How a process ended, decoded from a wait status (the process layer's type).
    public typealias ExitStatus = ProcessExit

    public struct Configuration: Sendable, Equatable {
        public var strategy: Strategy
        /// Intensity: more than `maxRestarts` restarts within `period` and the supervisor gives up.
        public var maxRestarts: Int
        public var period: Duration
        /// Delay before a restart: `initialBackoff` doubled for each consecutive failure of the
        /// same stage, at most `maxBackoff`, spread by ±`jitter` (a fraction).
        public var initialBackoff: Duration
        public var maxBackoff: Duration
        public var jitter: Double

        public init(
            strategy: Strategy = .oneForOne, maxRestarts: Int = 10, period: Duration = .seconds(60),
            initialBackoff: Duration = .milliseconds(100), maxBackoff: Duration = .seconds(5), jitter: Double = 0.2
        ) {
            self.strategy = strategy
            self.maxRestarts = maxRestarts
            self.period = period
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.jitter = jitter
        }
    }

    public enum Action: Sendable, Equatable {
        /// Restart these stages (the one that exited first), after the delay.
        case restart([String], after: Duration)
        /// Leave it down (temporary, or transient after a normal exit).
        case leaveDown
        /// Too many restarts: stop the pipeline.
        case giveUp(String)
    }

    public let configuration: Configuration
    private var recent: [ContinuousClock.Instant] = []
    private var consecutive: [String: Int] = [:]

    public init(configuration: Configuration = .init()) {
        self.configuration = configuration
    }

    /// Decides what to do now that `stage` exited with `status`.
    /// - Parameters:
    ///   - order: every stage, in pipeline order (for rest_for_one).
    ///   - progressed: whether the pipeline finished work since the last stop: then the stages
    ///     fail now and then, on messages they cannot take (a poison message costs its stage a
    ///     few crashes while the sender isolates it), and are no crash loop. The restarts counted
    ///     toward the intensity start over from this one, and its backoff starts over. A stage
    ///     that cannot start, or crashes on every message, gives nothing between its restarts,
    ///     and the limit stops it as before.
    ///   - jitter: a number in -1…1 (random in production, fixed in tests).
    public mutating func exited(
        _ stage: String, status: ExitStatus, type: RestartType = .permanent, order: [String],
        now: ContinuousClock.Instant, progressed: Bool = false, jitter: Double = 0
    ) -> Action {
        switch type {
        case .temporary: return .leaveDown
        case .transient where status.isNormal: return .leaveDown
        default: break
        }
        if progressed {
            recent.removeAll()
            consecutive[stage] = nil
        }
        recent = recent.filter { $0.duration(to: now) < configuration.period }
        recent.append(now)
        if recent.count > configuration.maxRestarts {
            return .giveUp(
                "\(stage) stopped (\(status)) and the pipeline already restarted \(configuration.maxRestarts) times within \(configuration.period); giving up"
            )
        }
        let failures = consecutive[stage, default: 0]
        consecutive[stage] = failures + 1
        var delay = configuration.initialBackoff * (1 << min(failures, 20))
        if delay > configuration.maxBackoff { delay = configuration.maxBackoff }
        delay = delay * (1 + configuration.jitter * max(-1, min(1, jitter)))
        let stages: [String]
        switch configuration.strategy {
        case .oneForOne:
            stages = [stage]
        case .restForOne:
            let index = order.firstIndex(of: stage) ?? order.count
            stages = [stage] + order[order.index(after: min(index, order.count - 1))...].filter { $0 != stage }
        case .oneForAll:
            stages = [stage] + order.filter { $0 != stage }
        }
        return .restart(stages, after: delay)
    }

    /// The stage has run long enough to count as healthy again: its backoff starts over.
    public mutating func stayedUp(_ stage: String) {
        consecutive[stage] = nil
    }
}
