import Foundation
import RunnelProtocol
import RunnelTransport

/// A data message read from a log, and its line exactly as it was written.
public struct LoggedMessage: Sendable {
    public var envelope: Envelope
    /// The line's bytes, without its newline: `--to -` writes them unchanged.
    public var line: [UInt8]
    /// The log file it came from, and its line number there (for messages).
    public var source: String
    public var lineNumber: Int
}

/// The data messages of some log files, in order: the one place replay reads logs.
///
/// Each path is a log file (zstd frames of JSON lines, or plain JSON lines), `-` for stdin, or the
/// plain name of a rotated log whose files are `NAME.000001.jsonl.zst`, `NAME.000002…` (PROTOCOL.md
/// §10.2), read in number order. Files are read with ``CaptureLogReader``: control lines are
/// skipped, a torn tail is cut back to the last whole frame. A bad line, a torn tail or a corrupt
/// frame is handed to `problem`, and reading goes on with the next line or file, so one damaged
/// file does not stop a replay.
public struct LogMessages: Sequence, Sendable {
    public let paths: [String]
    public let limits: Limits
    public let problem: @Sendable (RunnelError, _ source: String) -> Void

    public init(
        paths: [String], limits: Limits = .default, problem: @escaping @Sendable (RunnelError, _ source: String) -> Void
    ) {
        self.paths = paths
        self.limits = limits
        self.problem = problem
    }

    public func makeIterator() -> Iterator {
        Iterator(paths: paths, limits: limits, problem: problem)
    }

    /// Reads one path after another.
    public struct Iterator: IteratorProtocol {
        private var paths: [String]
        private let limits: Limits
        private let problem: @Sendable (RunnelError, String) -> Void
        private var reader: CaptureLogReader?
        private var readerPath = ""
        private var stdin: StandardInputLines?

        init(paths: [String], limits: Limits, problem: @escaping @Sendable (RunnelError, String) -> Void) {
            self.paths = paths.reversed()
            self.limits = limits
            self.problem = problem
        }

        public mutating func next() -> LoggedMessage? {
            while true {
                if let reader {
                    do throws(RunnelError) {
                        if let message = try reader.next() {
                            return LoggedMessage(envelope: message.envelope, line: message.line, source: message.file, lineNumber: message.lineNumber)
                        }
                    } catch {
                        problem(error, readerPath)
                    }
                    self.reader = nil
                    continue
                }
                if stdin != nil {
                    if let message = stdin!.next() { return message }
                    stdin = nil
                    continue
                }
                guard let path = paths.popLast() else { return nil }
                if path == "-" {
                    stdin = StandardInputLines(limits: limits, problem: problem)
                    continue
                }
                let problem = problem
                do throws(RunnelError) {
                    reader = try CaptureLogReader(paths: [path], limits: limits) { warning in problem(warning.error, warning.file) }
                    readerPath = path
                } catch {
                    problem(error, path)
                }
            }
        }
    }
}

/// The data messages of standard input (zstd or plain), a chunk at a time.
struct StandardInputLines {
    private let input = FileInput(descriptor: 0, name: "stdin")
    private let decoder: StreamDecoder
    private let problem: @Sendable (RunnelError, String) -> Void
    private var ready: [LoggedMessage] = []
    private var position = 0
    private var ended = false

    init(limits: Limits, problem: @escaping @Sendable (RunnelError, String) -> Void) {
        decoder = StreamDecoder(limits: limits)
        self.problem = problem
    }

    mutating func next() -> LoggedMessage? {
        while true {
            if position < ready.count {
                defer { position += 1 }
                return ready[position]
            }
            if ended { return nil }
            ready.removeAll(keepingCapacity: true)
            position = 0
            var collected: [LoggedMessage] = []
            let problem = problem
            func take(_ event: LineEvent) {
                switch event {
                case let .invalid(error): problem(error, "stdin")
                case let .line(bytes, number):
                    do throws(RunnelError) {
                        if case let .data(envelope) = try WireLine(line: bytes) {
                            collected.append(LoggedMessage(envelope: envelope, line: Array(bytes), source: "stdin", lineNumber: number))
                        }
                    } catch {
                        problem(error.at(.line(number)), "stdin")
                    }
                }
            }
            do {
                let decoder = decoder
                if try !input.read({ chunk in try decoder.feed(chunk) { take($0) } }) {
                    try decoder.finish { take($0) }
                    ended = true
                }
            } catch {
                problem(error as? RunnelError ?? RunnelError(.dataLoss, "\(error)"), "stdin")
                ended = true
            }
            ready = collected
        }
    }
}
