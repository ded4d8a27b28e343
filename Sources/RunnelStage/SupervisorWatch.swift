import Dispatch
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A stage started by `runnel run` ends when its supervisor dies, even by SIGKILL: the
/// supervisor passes its pid in `RUNNEL_SUPERVISOR_PID`, and the stage watches a pidfd of it,
/// which becomes readable when that process exits (event-driven: no polling, no thread, and not
/// tied to the spawning thread as `PR_SET_PDEATHSIG` is).
///
/// When the supervisor is gone the stage stops as on SIGTERM and exits at the latest `grace`
/// later: its neighbours are going too, so a drain rarely completes, and nothing is lost by
/// cutting it short (the source's cursor moves only on end-to-end acks; the next run resends). A new `runnel run` of the pipeline also kills
/// what is left of its predecessor's process groups.
enum SupervisorWatch {
    /// The environment variable that carries the supervisor's pid.
    static let variable = "RUNNEL_SUPERVISOR_PID"

    /// Starts watching the supervisor named by `RUNNEL_SUPERVISOR_PID`, if any. Call once, where
    /// a runner starts (after its SIGTERM handling is installed).
    static func start(grace: Duration = .seconds(2)) {
        guard let text = ProcessInfo.processInfo.environment[variable], let pid = Int32(text), pid > 1 else { return }
        // (Not getppid(): a stage may run under a shell or a wrapper the supervisor started.)
        let fd = pidfdOpen(pid)
        guard fd >= 0 else {
            if errno == ESRCH { supervisorGone(grace: grace) }  // it died before we got here
            return  // an old kernel: the next supervisor cleans up after us
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: .global())
        // The handler holds the source (released when it cancels), so it lives while it watches.
        source.setEventHandler {
            source.cancel()
            supervisorGone(grace: grace)
        }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    /// `pidfd_open(2)` (glibc 2.36; the Glibc module does not import `sys/pidfd.h`, and Swift
    /// cannot call the variadic `syscall`): -1 with `ENOSYS` where it is missing.
    private static func pidfdOpen(_ pid: pid_t) -> Int32 {
        typealias PidfdOpen = @convention(c) (pid_t, UInt32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pidfd_open") else {
            errno = ENOSYS
            return -1
        }
        return unsafeBitCast(symbol, to: PidfdOpen.self)(pid, 0)
    }

    private static func supervisorGone(grace: Duration) {
        // Nothing is written: stderr is a pipe to the dead supervisor.
        kill(getpid(), SIGTERM)
        let seconds = Double(grace.components.seconds)
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { _exit(75) }
    }
}
