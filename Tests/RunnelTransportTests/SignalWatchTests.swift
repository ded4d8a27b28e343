import Dispatch
import RunnelTransport
import Synchronization
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("SignalWatch")
struct SignalWatchTests {
    /// A libdispatch signal source loses a signal sent before its handler is in place (about half
    /// of them sent at once, in a measurement). SIGUSR2's default action ends this process: a
    /// signal the watch did not catch fails the whole run, loudly.
    @Test("a signal sent the moment the watch is made is seen, and a cancelled watch sees no more", .timeLimit(.minutes(1)))
    func noWindow() async throws {
        let seen = Mutex<[Int32]>([])
        let first = SignalWatch([SIGUSR2]) { signal in seen.withLock { $0.append(signal) } }
        kill(getpid(), SIGUSR2)
        #expect(await until { seen.withLock { $0.count } == 1 })

        first.cancel()
        let second = Mutex(0)
        let other = SignalWatch([SIGUSR2, SIGWINCH]) { _ in second.withLock { $0 += 1 } }
        defer { other.cancel() }
        kill(getpid(), SIGUSR2)
        #expect(await until { second.withLock { $0 } == 1 })
        #expect(seen.withLock { $0 } == [SIGUSR2], "the cancelled watch was not called again")
    }

    @Test("every watch of a signal is called for it; a watch is called only for its own signals", .timeLimit(.minutes(1)))
    func fanOut() async throws {
        let calls = Mutex<[String]>([])
        let a = SignalWatch([SIGWINCH]) { _ in calls.withLock { $0.append("a") } }
        let b = SignalWatch([SIGWINCH, SIGURG]) { _ in calls.withLock { $0.append("b") } }
        let c = SignalWatch([SIGURG]) { _ in calls.withLock { $0.append("c") } }
        defer { for watch in [a, b, c] { watch.cancel() } }
        kill(getpid(), SIGWINCH)
        #expect(await until { calls.withLock { $0.count } >= 2 })
        #expect(calls.withLock { $0.sorted() } == ["a", "b"])
    }

    /// Waits up to 10 s for `condition`, looking every 10 ms (a signal has no other event here).
    private func until(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<1_000 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
