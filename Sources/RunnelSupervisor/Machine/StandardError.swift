import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// The supervisor's stderr: whole lines under one lock, the progress line cleared before each,
/// and a closed pipe (`runnel run … 2>&1 | head -1`) noticed — SIGPIPE is ignored, so a write
/// fails with `EPIPE` — and remembered, so the supervisor can stop quietly.
final class StandardError: Sendable {
    private struct State {
        var closed = false
        /// A progress line is on the screen (no newline yet): clear it before the next line.
        var progressShown = false
    }

    private let state = Mutex(State())

    /// Whether a write found stderr closed.
    var isClosed: Bool { state.withLock { $0.closed } }

    /// Writes `line` and a newline.
    func writeLine(_ line: String) {
        state.withLock { state in
            let clear = state.progressShown ? "\r\u{1B}[K" : ""
            state.progressShown = false
            Self.write(clear + line + "\n", &state)
        }
    }

    /// Shows `text` as the progress line (replacing the one before).
    func showProgress(_ text: String) {
        state.withLock { state in
            state.progressShown = true
            Self.write("\r\u{1B}[K" + text, &state)
        }
    }

    /// Clears the progress line, if one is shown.
    func clearProgress() {
        state.withLock { state in
            guard state.progressShown else { return }
            state.progressShown = false
            Self.write("\r\u{1B}[K", &state)
        }
    }

    private static func write(_ text: String, _ state: inout State) {
        guard !state.closed else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0 && errno == EINTR {
                continue
            } else {
                if written < 0 && errno == EPIPE { state.closed = true }
                return
            }
        }
    }
}
