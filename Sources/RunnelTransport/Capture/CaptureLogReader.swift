import RunnelProtocol

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a capture log — one file, or a rotated set in number order — and yields its data
/// messages in order, each with its raw line, its envelope, and its file and offset.
///
/// A file that ends inside a frame (its writer was killed mid-write) is read up to its last whole
/// frame, and a warning says how many bytes were dropped; the file is not modified (a writer
/// reopening the log repairs it, see ``CaptureLogWriter``). A damaged frame in the middle of a
/// file (corrupt data, a wrong checksum) is skipped with a `DATA_LOSS` warning at its offset that
/// says how many bytes were skipped, and reading goes on at the next whole frame (frames are
/// independent, `Protocol/PROTOCOL.md` 10.3). Control lines are skipped and counted; an invalid
/// line is skipped with a warning, as `runnel cat` does. ``CaptureLogWarning/isTornTail`` tells
/// the torn tail (normal after a crash) from damage.
///
/// ```swift
/// let reader = try CaptureLogReader(paths: ["capture/parse-enrich.jsonl.zst"]) { warning in
///     print("runnel: \(warning)")
/// }
/// while let message = try reader.next() {
///     send(message.line)          // or message.envelope
/// }
/// ```
///
/// Errors: ``next()`` throws a ``RunnelError`` (`DATA_LOSS`, `RESOURCE_EXHAUSTED`) with the file
/// name in its message and the byte offset as its position when a file's damage has no whole
/// frame after it, or a frame's window is over the limit; every message before it has been
/// delivered.
public final class CaptureLogReader {
    /// The files read, in order.
    public let files: [String]
    /// Warnings so far (also handed to `onWarning` as they happen).
    public private(set) var warnings: [CaptureLogWarning] = []
    /// Control lines skipped so far.
    public private(set) var controlLines = 0
    /// Invalid lines skipped so far.
    public private(set) var invalidLines = 0

    private let limits: Limits
    private let onWarning: ((CaptureLogWarning) -> Void)?
    private var fileIndex = -1
    private var scanner: CaptureFileScanner?
    private var frame: CaptureFileScanner.Frame?
    private var position = 0  // in frame.text
    private var pending: [UInt8] = []  // a line that began in an earlier frame
    private var pendingOffset = 0
    private var lineNumber = 0

    /// Opens a log.
    /// - Parameters:
    ///   - paths: files or log names (``CaptureLogName/resolve(_:)``), read in the order given.
    ///   - limits: the longest line and largest zstd window accepted.
    ///   - onWarning: called for each torn tail and skipped line, as found.
    /// - Throws: ``RunnelError`` with `NOT_FOUND` when a path is neither a file nor a log.
    public init(
        paths: [String], limits: Limits = .default, onWarning: ((CaptureLogWarning) -> Void)? = nil
    ) throws(RunnelError) {
        files = try CaptureLogName.resolve(paths)
        self.limits = limits
        self.onWarning = onWarning
    }

    /// The next data message, or `nil` after the last one.
    public func next() throws(RunnelError) -> CapturedMessage? {
        while true {
            guard let line = try nextLine() else { return nil }
            let file = files[fileIndex]
            do throws(RunnelError) {
                switch try line.bytes.withUnsafeBufferPointer({ (b) throws(RunnelError) in try WireLine(line: b) }) {
                case let .data(envelope):
                    return CapturedMessage(
                        line: line.bytes, envelope: envelope, file: file, offset: line.offset, lineNumber: line.number)
                case .control:
                    controlLines += 1
                }
            } catch {
                invalidLines += 1
                warn(file, error.at(Position(line: line.number, offset: line.offset)))
            }
        }
    }

    /// Calls `body` for every data message.
    public func forEach(_ body: (CapturedMessage) throws -> Void) throws {
        while let message = try next() { try body(message) }
    }

    private typealias Position = RunnelError.Position

    /// The next non-blank line of any kind, across frames and files.
    private func nextLine() throws(RunnelError) -> (bytes: [UInt8], offset: Int, number: Int)? {
        while true {
            if let current = frame, position < current.text.count {
                let text = current.text
                let lineOffset = current.offset + (scanner?.format == .plain ? position : 0)
                if let newline = Self.newline(in: text, from: position) {
                    var bytes = Array(text[position..<newline])
                    var offset = lineOffset
                    if !pending.isEmpty {
                        bytes = pending + bytes
                        offset = pendingOffset
                        pending.removeAll()
                    }
                    position = newline + 1
                    lineNumber += 1
                    if bytes.last == 0x0D { bytes.removeLast() }
                    if bytes.isEmpty { continue }
                    if bytes.count > limits.maxLineBytes {
                        invalidLines += 1
                        warn(files[fileIndex], RunnelError(.resourceExhausted, "line longer than the limit of \(limits.maxLineBytes) bytes (skipped)", at: Position(line: lineNumber, offset: offset)))
                        continue
                    }
                    return (bytes, offset, lineNumber)
                }
                if pending.isEmpty { pendingOffset = lineOffset }
                pending += text[position...]
                position = text.count
                continue
            }
            if let scanner {
                if let next = try readFrame(scanner) {
                    frame = next
                    position = 0
                    continue
                }
                // The file is done: a last line without a newline still counts.
                self.scanner = nil
                frame = nil
                if !pending.isEmpty {
                    let bytes = pending
                    pending.removeAll()
                    lineNumber += 1
                    return (bytes, pendingOffset, lineNumber)
                }
                continue
            }
            fileIndex += 1
            guard fileIndex < files.count else { return nil }
            let path = files[fileIndex]
            scanner = try CaptureFileScanner(path: path, limits: limits) { [unowned self] damage in
                // The rest of a line begun before the damage was in the skipped bytes.
                if !pending.isEmpty {
                    pending.removeAll()
                    lineNumber += 1
                }
                warn(path, damage)
            }
            lineNumber = 0
        }
    }

    /// The index of the next `\n` at or after `start` (memchr: lines are long, bodies are HTML).
    private static func newline(in text: [UInt8], from start: Int) -> Int? {
        text.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress, start < buffer.count,
                let hit = memchr(base + start, 0x0A, buffer.count - start)
            else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
    }

    private func readFrame(_ scanner: CaptureFileScanner) throws(RunnelError) -> CaptureFileScanner.Frame? {
        let frame: CaptureFileScanner.Frame?
        do {
            frame = try scanner.next()
        } catch {
            var located = error
            located.message = "\(scanner.path): \(error.message)"
            throw located
        }
        if frame == nil, scanner.tornBytes > 0 {
            warn(scanner.path, CaptureLogReader.tornTail(scanner))
        }
        return frame
    }

    /// The warning for a file that ends inside a frame.
    static func tornTail(_ scanner: CaptureFileScanner, repaired: Bool = false) -> RunnelError {
        RunnelError(
            .dataLoss,
            "torn tail: the file ends inside a frame (its writer stopped mid-write); \(scanner.tornBytes) bytes after the last whole frame "
                + (repaired ? "were cut off" : "were dropped (the file is left as it is)"),
            at: .offset(scanner.wholeEnd), cause: TornTail(bytes: scanner.tornBytes))
    }

    /// The cause of a torn tail's `DATA_LOSS`, which tells it from damage in the middle of a file.
    public struct TornTail: Error, Sendable, Hashable {
        /// The bytes after the last whole frame.
        public var bytes: Int
    }

    private func warn(_ file: String, _ error: RunnelError) {
        let warning = CaptureLogWarning(file: file, error: error)
        warnings.append(warning)
        onWarning?(warning)
    }
}
