import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where a ``RunnelLogHandler`` writes its lines: stderr, or a function (a test collecting them).
///
/// Each line goes out whole, newline included, in as few `write(2)` calls as it takes and under
/// one lock, so lines from different tasks never interleave.
///
/// ```swift
/// let lines = Mutex<[String]>([])
/// let output = LogOutput { line in lines.withLock { $0.append(line) } }
/// ```
public struct LogOutput: Sendable {
    private let writeLine: @Sendable (String) -> Void

    /// An output that hands each line (without its newline) to `write`.
    public init(_ write: @escaping @Sendable (String) -> Void) {
        writeLine = write
    }

    /// Writes `line` and a newline.
    public func write(_ line: String) { writeLine(line) }

    /// File descriptor 2.
    public static let standardError = LogOutput { line in
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        lock.withLock { _ in
            bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Glibc.write(2, raw.baseAddress! + done, raw.count - done)
                    if n < 0 && errno == EINTR { continue }
                    if n <= 0 { return }  // stderr is gone: a log line is not worth dying for
                    done += n
                }
            }
        }
    }

    private static let lock = Mutex(())
}
