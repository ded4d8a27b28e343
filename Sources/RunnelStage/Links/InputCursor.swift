import Foundation
import RunnelProtocol
import Synchronization

/// A durable cursor over a stream's lines: how many lines from the start are done (their
/// messages acked end to end). A restarted reader skips that many and resumes; lines after a
/// gap wait for the gap, so nothing is skipped that was not acked.
///
/// The file holds one decimal number and is replaced atomically (write, fsync, rename). It is
/// written once as it opens, so a cursor that cannot be kept (a read-only or full disk) stops the
/// reader before it sends anything; a later write that fails is reported by ``flush()``.
final class InputCursor: Sendable {
    private struct State {
        var committed: Int
        var done: Set<Int> = []
        var lastWrite = ContinuousClock.now
        /// A write put off by the 200 ms spacing is waiting to be made.
        var deferred = false
        /// The first write that failed, if any.
        var failure: RunnelError?
    }

    let path: String
    private let state: Mutex<State>
    /// The count the file holds. Writes are made one at a time, each of the count as it is when
    /// the write begins, so a write put off by the spacing can never land after a later one with
    /// an older count (the last `flush()` of a run is what the file keeps).
    private let written = Mutex<Int>(-1)

    /// Opens (or starts) the cursor at `path`.
    init(path: String) throws(RunnelError) {
        self.path = path
        var start = 0
        if let data = FileManager.default.contents(atPath: path) {
            let text = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            guard let n = Int(text), n >= 0 else {
                throw RunnelError(.dataLoss, "the cursor file \(path) does not hold a line count (\"\(text.prefix(40))\"); remove it to start over")
            }
            start = n
        }
        state = Mutex(State(committed: start))
        if let failure = saveCommitted() { throw failure }
    }

    /// Lines already done before this run: skip them.
    var start: Int { state.withLock { $0.committed } }

    /// Line `index` (0-based, counting skipped lines too) is done.
    ///
    /// The file is written at most every 200 ms; an advance within that time is written when it
    /// is up, so a reader that then goes idle (a source following its file) leaves it current.
    func complete(_ index: Int) {
        enum Next { case none, write, later }
        let next = state.withLock { s -> Next in
            s.done.insert(index)
            var advanced = false
            while s.done.remove(s.committed) != nil {
                s.committed += 1
                advanced = true
            }
            guard advanced else { return .none }
            guard s.lastWrite.duration(to: .now) > .milliseconds(200) else {
                if s.deferred { return .none }
                s.deferred = true
                return .later
            }
            s.lastWrite = .now
            return .write
        }
        switch next {
        case .none: break
        case .write: record(saveCommitted())
        case .later:
            Task {
                try? await Task.sleep(for: .milliseconds(200))
                self.state.withLock { s in
                    s.deferred = false
                    s.lastWrite = .now
                }
                self.record(self.saveCommitted())
            }
        }
    }

    /// Keeps the first failed write, for ``flush()`` to report.
    private func record(_ failure: RunnelError?) {
        if let failure { state.withLock { $0.failure = $0.failure ?? failure } }
    }

    /// Writes the cursor now.
    /// - Returns: the first write of this run that failed (lines done since the last good one
    ///   will be sent again by the next run), or `nil`.
    func flush() -> RunnelError? {
        let failure = saveCommitted()
        return state.withLock { $0.failure } ?? failure
    }

    /// Writes the count as it is now, unless the file holds it already; one write at a time.
    private func saveCommitted() -> RunnelError? {
        written.withLock { written in
            let value = state.withLock { $0.committed }
            guard value != written else { return nil }
            let failure = save(value)
            if failure == nil { written = value }
            return failure
        }
    }

    /// Writes `value` atomically; the error when the file cannot be written.
    private func save(_ value: Int) -> RunnelError? {
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        var ok = fd >= 0
        if ok {
            let bytes = Array("\(value)\n".utf8)
            ok = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count && fsync(fd) == 0
        }
        let code = errno
        if fd >= 0 { close(fd) }
        if ok && rename(temporary, path) == 0 { return nil }
        let number = ok ? errno : code
        unlink(temporary)
        return RunnelError(
            number == ENOSPC || number == EDQUOT ? .resourceExhausted : .permissionDenied,
            "cannot write the cursor file \(path): \(String(cString: strerror(number))); a run started again would send the lines done since the last count it kept")
    }
}
