import RunnelProtocol

/// The time a fetch may take: the stage's `--timeout-ms`, shortened by the message's own
/// `deadline_ms` when that is sooner. Which of the two ends it decides the error's wording;
/// both fail with `DEADLINE_EXCEEDED`, which is final (trying again cannot make it earlier).
struct FetchBudget: Sendable {
    /// When the fetch must be over.
    var until: ContinuousClock.Instant
    /// Whether the message's deadline (rather than the stage's timeout) sets ``until``.
    var setByMessage: Bool
    var started: ContinuousClock.Instant

    init(timeoutMs: Int, messageDeadlineMs: Int64?, now: ContinuousClock.Instant = .now) {
        started = now
        let own = now + .milliseconds(timeoutMs)
        if let messageDeadlineMs, now + .milliseconds(messageDeadlineMs) < own {
            until = now + .milliseconds(max(messageDeadlineMs, 0))
            setByMessage = true
        } else {
            until = own
            setByMessage = false
        }
    }

    /// What is left, never negative.
    var remaining: Duration { max(ContinuousClock.now.duration(to: until), .zero) }

    /// Whether a wait of `duration` from now would end after the budget.
    func cannotWait(_ duration: Duration) -> Bool { ContinuousClock.now + duration >= until }

    /// The error for a fetch of `url` that ran out of time.
    func exceeded(_ url: String, doing: String? = nil) -> RunnelError {
        let spent = started.duration(to: .now).milliseconds
        let during = doing.map { " (\($0))" } ?? ""
        if setByMessage {
            return RunnelError(
                .deadlineExceeded, "\(url): the message's deadline (deadline_ms) ran out after \(spent) ms\(during)")
        }
        return RunnelError(
            .deadlineExceeded,
            "\(url): the fetch took longer than its \(started.duration(to: until).milliseconds) ms budget\(during); raise --timeout-ms if the site is slow"
        )
    }
}

extension Duration {
    /// The duration in whole milliseconds.
    var milliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
