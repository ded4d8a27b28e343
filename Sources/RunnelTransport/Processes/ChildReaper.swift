import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Collects the exits of the children it watches, driven by SIGCHLD: no thread blocked in
/// `waitpid`, no polling.
///
/// One `DispatchSource` for SIGCHLD, installed once for the process, calls
/// `waitpid(pid, WNOHANG)` for each watched pid on every SIGCHLD (signals coalesce, so one may
/// stand for several exits) and hands each status to that pid's waiters. It never calls
/// `waitpid(-1)`, which would take the exits of children that others (Foundation's `Process`, a
/// supervisor with its own reaper) wait for. A child that exited before it was watched is found
/// by the `WNOHANG` check made when it is registered.
///
/// ```swift
/// let spawned = try ChildProcess.spawn(["sleep", "1"], environment: [:], listening: nil)
/// let status = await ChildReaper.shared.exit(of: spawned.pid)   // .exited(0)
/// ```
public final class ChildReaper: Sendable {
    /// The process-wide reaper.
    public static let shared = ChildReaper()

    private struct State {
        var watched: [pid_t: ExitCell] = [:]
        var source: (any DispatchSourceSignal)?
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "runnel.child-reaper")

    private init() {}

    /// Watches `pid`, a child of this process not yet reaped, and returns the cell its status
    /// will be put in. Watching a pid twice returns the same cell.
    /// - Returns: `nil` when `pid` is not a child of this process (or was reaped by someone else).
    func watch(_ pid: pid_t) -> ExitCell? {
        installIfNeeded()
        var resolved: (ExitCell, ProcessExit)?
        let cell = state.withLock { state -> ExitCell? in
            if let cell = state.watched[pid] { return cell }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            let cell = ExitCell()
            if result == pid {
                resolved = (cell, ProcessExit(waitStatus: status))
            } else if result == 0 {
                state.watched[pid] = cell
            } else {
                return nil  // ECHILD: not ours, or already reaped elsewhere
            }
            return cell
        }
        if let (cell, status) = resolved { cell.resolve(status) }
        return cell
    }

    /// Waits for the exit of `pid`, a child of this process that nobody else reaps.
    /// - Returns: how it ended; `nil` when `pid` is not a child of this process, was already
    ///   reaped (by an earlier call, or by someone calling `waitpid` on it), or the task was
    ///   cancelled.
    public func exit(of pid: pid_t) async -> ProcessExit? {
        guard let cell = watch(pid) else { return nil }
        return await cell.wait()
    }

    /// How many pids are watched (for tests: nothing is left behind).
    public var watchedCount: Int { state.withLock { $0.watched.count } }

    private func installIfNeeded() {
        state.withLock { state in
            guard state.source == nil else { return }
            let source = DispatchSource.makeSignalSource(signal: SIGCHLD, queue: queue)
            source.setEventHandler { [weak self] in self?.reap() }
            source.resume()
            state.source = source
            // libdispatch installs its SIGCHLD handler later, on its manager thread: an exit
            // in between is signalled to nobody. A look once it is surely in place finds it.
            // (Not a SignalWatch: a dispatch SIGCHLD source made by any library in the process
            // would replace its handler, and then no exit would be seen.)
            for delay in [50, 1_000] {
                queue.asyncAfter(deadline: .now() + .milliseconds(delay)) { [weak self] in self?.reap() }
            }
        }
    }

    /// Checks every watched pid now, as a SIGCHLD would. A waiter whose time runs out calls it,
    /// so a SIGCHLD that was lost (libdispatch hands signals on between threads) costs a
    /// timeout, never a wait for ever.
    func reapNow() {
        queue.async { self.reap() }
    }

    /// On SIGCHLD: `waitpid(pid, WNOHANG)` for each watched pid.
    private func reap() {
        let exited = state.withLock { state -> [(pid_t, ExitCell, ProcessExit)] in
            var exited: [(pid_t, ExitCell, ProcessExit)] = []
            for (pid, cell) in state.watched {
                var status: Int32 = 0
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid {
                    exited.append((pid, cell, ProcessExit(waitStatus: status)))
                    state.watched[pid] = nil
                } else if result < 0 && errno == ECHILD {
                    // Reaped by someone else: its status is lost, but waiters must not hang.
                    exited.append((pid, cell, .exited(-1)))
                    state.watched[pid] = nil
                }
            }
            return exited
        }
        for (pid, cell, status) in exited {
            ExitTermination.remove(pid)
            cell.resolve(status)
        }
    }
}

/// One child's exit status, once known, and the tasks waiting for it.
final class ExitCell: Sendable {
    private struct State {
        var status: ProcessExit?
        var waiters: [Int: CheckedContinuation<ProcessExit?, Never>] = [:]
        var nextWaiter = 0
    }

    private let state = Mutex(State())

    /// The status, if the child has been reaped.
    var status: ProcessExit? { state.withLock { $0.status } }

    func resolve(_ status: ProcessExit) {
        let waiters = state.withLock { state -> [CheckedContinuation<ProcessExit?, Never>] in
            guard state.status == nil else { return [] }
            state.status = status
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: status) }
    }

    /// Waits for the status, however long, cancelled or not.
    func waitIgnoringCancellation() async -> ProcessExit {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        let status = await withCheckedContinuation { (continuation: CheckedContinuation<ProcessExit?, Never>) in
            let now = state.withLock { state -> ProcessExit? in
                if let status = state.status { return status }
                state.waiters[id] = continuation
                return nil
            }
            if let now { continuation.resume(returning: now) }
        }
        return status ?? .exited(-1)  // only resolve() resumes these waiters, with a status
    }

    /// Waits for the status; `nil` if the task is cancelled first.
    func wait() async -> ProcessExit? {
        let id = state.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ProcessExit?, Never>) in
                let now = state.withLock { state -> ProcessExit?? in
                    if let status = state.status { return .some(status) }
                    if Task.isCancelled { return .some(nil) }
                    state.waiters[id] = continuation
                    return .none
                }
                if let now { continuation.resume(returning: now) }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume(returning: nil)
        }
    }
}
