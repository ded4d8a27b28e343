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
        let first = Calls()
        let watch = SignalWatch([SIGUSR2]) { first.record("first \($0)") }
        kill(getpid(), SIGUSR2)
        #expect(await first.wait(for: 1) == ["first \(SIGUSR2)"])

        watch.cancel()
        let second = Calls()
        // A second signal no test here sends: fanOut, run beside this test, sends SIGWINCH.
        let other = SignalWatch([SIGUSR2, SIGURG]) { second.record("second \($0)") }
        defer { other.cancel() }
        kill(getpid(), SIGUSR2)
        #expect(await second.wait(for: 1) == ["second \(SIGUSR2)"])
        #expect(first.all.count == 1, "the cancelled watch was not called again")
    }

    @Test("every watch of a signal is called for it; a watch is called only for its own signals", .timeLimit(.minutes(1)))
    func fanOut() async throws {
        let calls = Calls()
        let a = SignalWatch([SIGWINCH]) { _ in calls.record("a") }
        let b = SignalWatch([SIGWINCH, SIGURG]) { _ in calls.record("b") }
        let c = SignalWatch([SIGURG]) { _ in calls.record("c") }
        defer { for watch in [a, b, c] { watch.cancel() } }
        kill(getpid(), SIGWINCH)
        // The relay calls every watch of one signal together: once two are in, c had its chance.
        #expect(await calls.wait(for: 2).sorted() == ["a", "b"])
        #expect(calls.all.count == 2)
    }
}

/// What a watch's handler was called with, and tasks waiting for a number of calls.
private final class Calls: Sendable {
    private struct State {
        var calls: [String] = []
        var waiters: [Int: (count: Int, continuation: CheckedContinuation<Void, Never>)] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    func record(_ call: String) {
        let ready = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            state.calls.append(call)
            let ready = state.waiters.filter { $0.value.count <= state.calls.count }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in ready { continuation.resume() }
    }

    var all: [String] { state.withLock { $0.calls } }

    /// The calls once there are `count` of them, or as they are after 10 s.
    func wait(for count: Int) async -> [String] {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                        let now = self.state.withLock { state -> Bool in
                            if state.calls.count >= count || Task.isCancelled { return true }
                            state.waiters[id] = (count, continuation)
                            return false
                        }
                        if now { continuation.resume() }
                    }
                } onCancel: {
                    self.state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
                }
            }
            group.addTask { try? await Task.sleep(for: .seconds(10)) }  // the deadline; the calls end the wait first
            await group.next()
            group.cancelAll()
        }
        return all
    }
}
