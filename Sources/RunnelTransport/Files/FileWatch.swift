import Dispatch
import RunnelProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Tells when a file or a directory changes, through inotify: `runnel send --follow` reads a URL
/// list as lines are added to it, and a pipeline that follows its page directory sees new pages.
///
/// A change that comes while no one waits is kept, so that a writer who appends between a
/// reader's end of file and its next ``changed()`` is never missed: make the watch before the
/// first read.
///
/// ```swift
/// let watch = try FileWatch(path: "urls.txt", for: .writes)
/// while await watch.changed() != nil { /* read on from where the last read stopped */ }
/// ```
public final class FileWatch: Sendable {
    public let path: String
    private let descriptor: Int32
    /// Set once here and only cancelled after, which libdispatch allows from any thread.
    nonisolated(unsafe) private let source: any DispatchSourceRead

    /// What to watch for.
    public enum Events: Sendable {
        /// Bytes written to a file (a list someone appends to), a writer closing it, and the file
        /// moved, removed or replaced under its name: its directory is watched too, for a file of
        /// that name that arrives (a log rotated, a list saved anew by an editor). See ``rewatch()``.
        case writes
        /// Files that arrive in a directory whole: closed after writing, or moved in.
        case arrivals
    }

    /// What ends a wait.
    private enum Wake {
        case changed(names: [String])
        /// Nothing changed for the time given.
        case quiet
        case cancelled
    }

    private struct State {
        var changed = false
        /// For ``Events/arrivals``: the names of the files that arrived since the last call.
        var names: [String] = []
        var cancelled = false
        /// The wait in progress, numbered so that a time-out meant for an earlier one ends none.
        var waiter: (number: UInt64, continuation: CheckedContinuation<Wake, Never>)?
        var waits: UInt64 = 0
    }

    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "runnel.file-watch")

    /// Watches `path` for `events`.
    /// - Throws: ``RunnelError`` naming the path when it cannot be watched (it does not exist).
    public init(path: String, for events: Events) throws(RunnelError) {
        self.path = path
        let fd = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot watch \(path) (inotify)") }
        let mask = events == .writes ? Self.fileMask : UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO)
        guard inotify_add_watch(fd, path, mask) >= 0 else {
            let error = RunnelError.posix(errno, "cannot watch \(path)")
            close(fd)
            throw error
        }
        if events == .writes {
            // A new file under the name: created, or moved in.
            let slash = path.lastIndex(of: "/")
            let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
            guard inotify_add_watch(fd, directory, UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) >= 0 else {
                let error = RunnelError.posix(errno, "cannot watch \(directory)")
                close(fd)
                throw error
            }
        }
        descriptor = fd
        source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: queue)
        source.setEventHandler { [weak self] in self?.readEvents() }
        source.setCancelHandler { close(fd) }
        source.resume()
    }

    deinit { source.cancel() }

    /// A file's writes, a writer closing it (an editor done saving in place), and its moving,
    /// removal or replacement (a link count that drops).
    private static let fileMask =
        UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVE_SELF) | UInt32(IN_DELETE_SELF) | UInt32(IN_ATTRIB)

    /// Watches the file now under ``path`` (for ``Events/writes``, once a reader has opened the
    /// file that replaced the one it followed).
    /// - Returns: false when there is none to watch.
    @discardableResult
    public func rewatch() -> Bool {
        inotify_add_watch(descriptor, path, Self.fileMask) >= 0
    }

    /// Waits until the watched path changed since the last call (at once if it did meanwhile).
    /// - Returns: the names of the files that arrived (for ``Events/arrivals``; none for
    ///   ``Events/writes``); nil once ``cancel()`` was called: stop waiting for more.
    public func changed() async -> [String]? {
        switch await wait(timeout: nil) {
        case let .changed(names): names
        case .quiet, .cancelled: nil
        }
    }

    /// Waits until the watched path changed since the last call, for `timeout` at most: whether a
    /// file's writer is still at work.
    /// - Returns: true when it changed, false when it stayed as it was for `timeout`; nil once
    ///   ``cancel()`` was called.
    public func changed(within timeout: Duration) async -> Bool? {
        switch await wait(timeout: timeout) {
        case .changed: true
        case .quiet: false
        case .cancelled: nil
        }
    }

    private func wait(timeout: Duration?) async -> Wake {
        await withCheckedContinuation { continuation in
            let (now, number) = state.withLock { s -> (Wake?, UInt64) in
                if s.cancelled { return (.cancelled, 0) }
                if s.changed {
                    s.changed = false
                    defer { s.names = [] }
                    return (.changed(names: s.names), 0)
                }
                s.waits += 1
                s.waiter = (s.waits, continuation)
                return (nil, s.waits)
            }
            if let now {
                continuation.resume(returning: now)
            } else if let timeout {
                let (seconds, attoseconds) = timeout.components
                let nanoseconds = max(0, min(seconds, 86_400)) * 1_000_000_000 + attoseconds / 1_000_000_000
                queue.asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [weak self] in
                    self?.end(number, with: .quiet)
                }
            }
        }
    }

    /// Ends wait `number` with `wake`, if it is still the one in progress.
    private func end(_ number: UInt64, with wake: Wake) {
        let waiter = state.withLock { s -> CheckedContinuation<Wake, Never>? in
            guard let waiter = s.waiter, waiter.number == number else { return nil }
            s.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: wake)
    }

    /// Ends the wait of ``changed()``, now and for good (a drain began).
    public func cancel() {
        let waiter = state.withLock { s -> CheckedContinuation<Wake, Never>? in
            s.cancelled = true
            defer { s.waiter = nil }
            return s.waiter?.continuation
        }
        waiter?.resume(returning: .cancelled)
        source.cancel()
    }

    /// Empties the inotify queue, keeping the names its events carry, and wakes the waiter.
    private func readEvents() {
        var names: [String] = []
        // Each event: wd (4 bytes), mask, cookie, len (4 each), then `len` bytes of name, NUL-padded.
        let header = MemoryLayout<inotify_event>.size
        withUnsafeTemporaryAllocation(byteCount: 64 << 10, alignment: 8) { buffer in
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                guard count > 0 else { break }
                var offset = 0
                while offset + header <= count {
                    let length = Int(buffer.load(fromByteOffset: offset + 12, as: UInt32.self))
                    let start = offset + header
                    let end = min(start + length, count)
                    if length > 0 {
                        let bytes = UnsafeRawBufferPointer(rebasing: buffer[start..<end]).prefix { $0 != 0 }
                        names.append(String(decoding: bytes, as: UTF8.self))
                    }
                    offset = start + length
                }
            }
        }
        let waiter = state.withLock { s -> CheckedContinuation<Wake, Never>? in
            guard let waiter = s.waiter else {
                s.changed = true
                s.names += names
                return nil
            }
            s.waiter = nil
            return waiter.continuation
        }
        waiter?.resume(returning: .changed(names: names))
    }
}
