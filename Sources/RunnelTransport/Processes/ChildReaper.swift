import CSignals
import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Collects the exits of the children it watches: no thread blocked in `waitpid`, no polling.
///
/// Each watched child has a pidfd (Linux 5.3 and later), a descriptor that becomes readable when
/// that child exits; a dispatch read source on it calls `waitpid(pid, WNOHANG)` and hands the
/// status to the pid's waiters. A pidfd belongs to one child and to this reaper alone, where
/// SIGCHLD is process-wide: seeing it depends on libdispatch handing it on from the thread that
/// took it to its own, and on no library in the process installing a handler of its own. SIGCHLD
/// is still watched, for kernels without pidfds, and every wake-up checks every watched pid.
///
/// It never calls `waitpid(-1)`, which would take the exits of children that others (Foundation's
/// `Process`, a supervisor with its own reaper) wait for. A child that exited before it was
/// watched is found by the `WNOHANG` check made when it is registered.
///
/// ```swift
/// let spawned = try ChildProcess.spawn(["sleep", "1"], environment: [:], listening: nil)
/// let status = await ChildReaper.shared.exit(of: spawned.pid)   // .exited(0)
/// ```
public final class ChildReaper: Sendable {
    /// The process-wide reaper.
    public static let shared = ChildReaper()

    private struct Watched {
        var cell: ExitCell
        /// Readable at the child's exit; nil where pidfds are not available.
        var exitSource: (any DispatchSourceRead)?
    }

    private struct State {
        var watched: [pid_t: Watched] = [:]
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
            if let watched = state.watched[pid] { return watched.cell }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            let cell = ExitCell()
            if result == pid {
                resolved = (cell, ProcessExit(waitStatus: status))
            } else if result == 0 {
                state.watched[pid] = Watched(cell: cell, exitSource: exitSource(for: pid))
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

    /// A read source on a pidfd of `pid`, resumed: it fires once the child has exited (also if
    /// it already has). Its descriptor is closed when the source is cancelled.
    private func exitSource(for pid: pid_t) -> (any DispatchSourceRead)? {
        let descriptor = runnel_pidfd_open(pid)
        guard descriptor >= 0 else { return nil }  // ENOSYS, or a sandbox that forbids it: SIGCHLD
        let source = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        source.setEventHandler { [weak self] in self?.reap() }
        source.setCancelHandler { close(descriptor) }
        source.resume()
        return source
    }

    /// Checks every watched pid now, as an exit event would, before it returns. A waiter whose
    /// time runs out calls it, so an event that never came costs a timeout, never a wait for
    /// ever, and a child that did exit is reported as exited.
    func reapNow() {
        reap()
    }

    /// On an exit event or SIGCHLD: `waitpid(pid, WNOHANG)` for each watched pid.
    private func reap() {
        let exited = state.withLock { state -> [(pid_t, ExitCell, ProcessExit)] in
            var exited: [(pid_t, ExitCell, ProcessExit)] = []
            for (pid, watched) in state.watched {
                var status: Int32 = 0
                let result = waitpid(pid, &status, WNOHANG)
                if result == pid {
                    exited.append((pid, watched.cell, ProcessExit(waitStatus: status)))
                } else if result < 0 && errno == ECHILD {
                    // Reaped by someone else: its status is lost, but waiters must not hang.
                    exited.append((pid, watched.cell, .exited(-1)))
                } else {
                    continue
                }
                watched.exitSource?.cancel()
                state.watched[pid] = nil
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
