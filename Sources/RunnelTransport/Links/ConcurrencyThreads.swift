import CExecutorHook
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Which threads run Swift concurrency's jobs in a runnel process.
public enum ConcurrencyThreads {
    /// Makes NIO's event loop threads, which serve every link's socket, also the threads Swift
    /// concurrency runs its jobs on, when `RUNNEL_EXECUTOR=loops` asks for it. Returns whether
    /// they are.
    ///
    /// Not the default. Under `Scripts/chaos.sh` (a stage SIGKILLed every 0.3 s) a pipeline of
    /// debug builds recovers several times slower with it (500 pages: 72–96 kills against 12–43
    /// on Swift's pool; release builds, 2,000 pages: 19–20 against 21–22): a stage whose work is
    /// slow holds the loop its links' acks and credit wait on. And a relay between two sockets on
    /// the loops, tried as a default, had two idle-timeout checks of `LinkConformanceTests` fail
    /// under the parallel test run (a live and a drained peer told `bye DEADLINE_EXCEEDED`),
    /// for a cause not found yet.
    ///
    /// A stage's work crosses between a socket and a task for every batch: it is read on an event
    /// loop, handled in a task, written on the event loop, and its acks come back the same way.
    /// With two pools each crossing wakes a thread of the other (a futex call, and on a small
    /// machine mostly a context switch); on one set of threads a task mostly goes on on the loop
    /// that read its batch. A relay in the middle of `send → relay × 3 → recv` (100,000 small
    /// messages, BENCHMARKS.md) made 16,000 futex calls and 18,700 context switches with two
    /// pools, 11 and 2,300 with one, for about a fifth less CPU per message on session 29's
    /// machine (a debug-linked build); the release build on session 43's machine made 12,000
    /// against 2,100 context switches for the same CPU (560–660 ms either way).
    ///
    /// Call it in `main`, on the main thread, once, before the command runs. Work that holds a
    /// thread (a SQLite commit, parsing a large page) then holds an event loop, whose sockets
    /// wait meanwhile as the busy stage would make them wait anyway; nothing may wait on an event
    /// loop future synchronously (`TapPoint.close()` suspends instead).
    ///
    /// A task stays on the loop it resumed on: no thread takes over another's ready work. That
    /// suits a stage that handles one batch at a time; `runnel fetch`, with its 16 requests at
    /// once, used less CPU on the loops but took 8% longer (its CPU work and its connections'
    /// reads queued behind each other on two loops), so it does not call this.
    ///
    /// NIO's own installer (`NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor`)
    /// looks the runtime's `swift_task_enqueueGlobal_hook` up with `dlsym`, which finds nothing in
    /// a binary that links the Swift runtime in (the release build, `--static-swift-stdlib`):
    /// there the symbol is not exported. This sets the same hook through a reference the linker
    /// resolves (`CExecutorHook`), with the same function NIO installs: each job goes to the event
    /// loop of the thread that enqueues it, or to the next loop of the group from elsewhere.
    @discardableResult
    public static func useEventLoops() -> Bool {
        guard isRequested else { return false }
        // The runtime's hook type, as NIO spells it: the job, and the runtime's own enqueue.
        typealias EnqueueGlobalHook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: EnqueueGlobalHook = { job, _ in
            MultiThreadedEventLoopGroup.singleton.any().enqueue(ExecutorJob(job))
        }
        return withUnsafeTemporaryAllocation(of: EnqueueGlobalHook.self, capacity: 1) { slot in
            slot.baseAddress!.initialize(to: hook)
            return slot.baseAddress!.withMemoryRebound(to: UnsafeRawPointer.self, capacity: 1) {
                runnel_install_enqueue_global_hook($0.pointee)
            }
        }
    }

    /// Whether `RUNNEL_EXECUTOR=loops` is set.
    public static var isRequested: Bool {
        guard let choice = getenv("RUNNEL_EXECUTOR") else { return false }
        return String(cString: choice) == "loops"
    }
}
