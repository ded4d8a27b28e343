#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Waiting on a descriptor that returned `EAGAIN` although this process never made it
/// non-blocking: `O_NONBLOCK` belongs to the open pipe, not to one process, so a stdin or stdout
/// shared with a process that set it (Node.js does, for its own end) reads and writes as
/// non-blocking here too. A reader or writer that blocks anyway waits here instead of failing.
public enum Readiness {
    /// Waits, as a blocking read or write would, until `fd` is ready for `events` (`POLLIN`,
    /// `POLLOUT`), has hung up, or is in error: the next call says which.
    /// - Returns: false when `poll` itself fails (errno set).
    public static func wait(_ fd: Int32, for events: Int16) -> Bool {
        var entry = pollfd(fd: fd, events: events, revents: 0)
        while true {
            if poll(&entry, 1, -1) >= 0 { return true }
            if errno != EINTR { return false }
        }
    }
}
