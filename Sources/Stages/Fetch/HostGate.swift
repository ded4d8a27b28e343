/// Politeness per host: at most `limit` requests in flight to one host, and at least `delay`
/// between the starts of two requests to it. Waiters are served in arrival order.
///
/// ```swift
/// let gate = HostGate(limit: 2, delay: .milliseconds(250))
/// try await gate.acquire("vov.vn")
/// defer { Task { await gate.release("vov.vn") } }
/// ```
actor HostGate {
    private struct Host {
        var active = 0
        var nextStart: ContinuousClock.Instant?
        var waiters: [(id: Int, continuation: CheckedContinuation<Void, any Error>)] = []
    }

    let limit: Int
    let delay: Duration
    private var hosts: [String: Host] = [:]
    private var nextWaiter = 0

    init(limit: Int, delay: Duration) {
        self.limit = max(limit, 1)
        self.delay = delay
    }

    /// Waits for a slot for `host`, then for the politeness delay since the last start.
    /// - Throws: `CancellationError` when the task is cancelled while it waits.
    func acquire(_ host: String) async throws {
        if hosts[host, default: Host()].active >= limit {
            nextWaiter += 1
            let id = nextWaiter
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { continuation in
                    hosts[host, default: Host()].waiters.append((id, continuation))
                }
            } onCancel: {
                Task { await self.cancelWaiter(id, host: host) }
            }
            // `release` handed its slot to us: `active` already counts this request.
        } else {
            hosts[host, default: Host()].active += 1
        }
        // Reserve a start time now, so concurrent holders space themselves out.
        let now = ContinuousClock.now
        let start = max(now, hosts[host]?.nextStart ?? now)
        hosts[host]?.nextStart = start + delay
        if start > now {
            do {
                try await Task.sleep(until: start, clock: .continuous)
            } catch {
                release(host)
                throw error
            }
        }
    }

    /// Gives the slot back, to the longest waiter if there is one.
    func release(_ host: String) {
        guard var entry = hosts[host] else { return }
        if !entry.waiters.isEmpty {
            let waiter = entry.waiters.removeFirst()
            hosts[host] = entry
            waiter.continuation.resume()
            return
        }
        entry.active -= 1
        if entry.active <= 0, (entry.nextStart ?? .now) <= .now {
            hosts[host] = nil  // forget idle hosts, so a long crawl keeps no table of every host
        } else {
            hosts[host] = entry
        }
        if hosts.count > 10_000 {  // hosts left idle inside their delay
            let now = ContinuousClock.now
            hosts = hosts.filter { $0.value.active > 0 || ($0.value.nextStart ?? now) > now }
        }
    }

    private func cancelWaiter(_ id: Int, host: String) {
        guard let index = hosts[host]?.waiters.firstIndex(where: { $0.id == id }) else { return }
        let waiter = hosts[host]!.waiters.remove(at: index)
        waiter.continuation.resume(throwing: CancellationError())
    }
}
