/// When to say again that a peer cannot be reached: a stage whose `--to` never answers (a typo in
/// a path, a next stage that was never started) tries for ever, and one warning at the start is
/// easy to miss. It is said again after 10 s, a minute and ten minutes of trying, then hourly.
struct OutageNotice {
    /// When the peer was first found away.
    let since: ContinuousClock.Instant
    /// The next report's index into ``reportsAfter`` (past its end: hourly).
    private var reported = 0

    static let reportsAfter: [Duration] = [.seconds(10), .seconds(60), .seconds(600)]
    static let thenEvery = Duration.seconds(3600)

    init(since: ContinuousClock.Instant) {
        self.since = since
    }

    /// How long the peer has been away, when a report is due at `now` (and it is counted as
    /// made); nil when none is.
    mutating func due(at now: ContinuousClock.Instant) -> Duration? {
        let away = since.duration(to: now)
        guard away >= threshold(after: reported) else { return nil }
        // A long sleep (a suspended machine) makes one report, not one per threshold passed.
        repeat { reported += 1 } while away >= threshold(after: reported)
        return away
    }

    /// How long after ``since`` the report that follows `count` reports is due.
    private func threshold(after count: Int) -> Duration {
        let steps = Self.reportsAfter
        if count < steps.count { return steps[count] }
        return steps[steps.count - 1] + Self.thenEvery * (count - steps.count + 1)
    }
}
