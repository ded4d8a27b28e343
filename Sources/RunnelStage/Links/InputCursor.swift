import Foundation
import RunnelProtocol
import Synchronization

/// A durable cursor over a stream's lines: how many lines from the start are done (their
/// messages acked end to end). A restarted reader skips that many and resumes; lines after a
/// gap wait for the gap, so nothing is skipped that was not acked.
///
/// The file holds one decimal number and is replaced atomically (write, fsync, rename).
final class InputCursor: Sendable {
    private struct State {
        var committed: Int
        var done: Set<Int> = []
        var lastWrite = ContinuousClock.now
    }

    let path: String
    private let state: Mutex<State>

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
    }

    /// Lines already done before this run: skip them.
    var start: Int { state.withLock { $0.committed } }

    /// Line `index` (0-based, counting skipped lines too) is done.
    func complete(_ index: Int) {
        let write = state.withLock { s -> Int? in
            s.done.insert(index)
            var advanced = false
            while s.done.remove(s.committed) != nil {
                s.committed += 1
                advanced = true
            }
            guard advanced, s.lastWrite.duration(to: .now) > .milliseconds(200) else { return nil }
            s.lastWrite = .now
            return s.committed
        }
        if let write { save(write) }
    }

    /// Writes the cursor now.
    func flush() {
        save(state.withLock { $0.committed })
    }

    private func save(_ value: Int) {
        let temporary = path + ".tmp"
        guard let handle = FileManager.default.createFile(atPath: temporary, contents: Data("\(value)\n".utf8)) ? FileHandle(forUpdatingAtPath: temporary) : nil else { return }
        try? handle.synchronize()
        try? handle.close()
        rename(temporary, path)
    }
}
