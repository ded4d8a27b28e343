import RunnelProtocol

/// The robots.txt rules of each origin, fetched once and kept for a while. Concurrent fetches
/// for the same origin wait for one download. A failed download is not kept, so the next page
/// of that origin tries again.
actor RobotsCache {
    private var entries: [String: (task: Task<Result<RobotsRules, RunnelError>, Never>, until: ContinuousClock.Instant)] = [:]
    private let ttl: Duration

    init(ttl: Duration) {
        self.ttl = ttl
    }

    /// The rules for `origin` (`https://vov.vn:443`), loaded with `load` when not cached.
    func rules(
        for origin: String, load: @escaping @Sendable () async -> Result<RobotsRules, RunnelError>
    ) async -> Result<RobotsRules, RunnelError> {
        if let entry = entries[origin], entry.until > .now { return await entry.task.value }
        let task = Task { await load() }
        entries[origin] = (task, .now + ttl)
        if entries.count > 10_000 { entries = entries.filter { $0.value.until > .now } }
        let result = await task.value
        if case .failure = result, entries[origin]?.task == task { entries[origin] = nil }
        return result
    }
}
