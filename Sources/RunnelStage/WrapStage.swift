import Foundation
import RunnelProtocol
import Synchronization

/// Any line filter as a stage: a child process (`jq -c …`, a Python script) gets each input
/// message as one JSON line on its stdin and must answer each with exactly one line on its
/// stdout, in order. The answer is the output:
///
/// - a message (an object with `type` and `body`): sent on with a new id and the input as parent;
/// - any other JSON value: the new body, under the input's type;
/// - `null` or an empty line: no output (the input is done);
/// - not JSON, or the child exits: the input fails (`INVALID_ARGUMENT`, `UNAVAILABLE`), and the
///   child is started again for the next message;
/// - a line longer than the stage's line limit: the input fails (`RESOURCE_EXHAUSTED`, as an
///   oversized line from a socket does) and the child is started again.
///
/// ```sh
/// runnel wrap -- jq -c --unbuffered '.body.title |= ascii_upcase'
/// ```
public final class WrapStage: Stage, @unchecked Sendable {
    public let service: ServiceDefinition
    private let command: [String]
    private let maxLineBytes: Int
    private let lock = Mutex<Void>(())
    // The child and its pipes, touched only while `handle` holds the lock (one batch at a time).
    private var process: Process?
    private var input: FileHandle?
    private var output: FileHandle?
    private var pending = Data()

    /// - Parameters:
    ///   - command: the filter and its arguments.
    ///   - accepts: the types it is given (default: any).
    ///   - maxLineBytes: the longest answer line taken from the child.
    public init(
        command: [String], accepts: [String] = ["*"], emits: [String] = ["*"], maxLineBytes: Int = Limits.default.maxLineBytes
    ) {
        self.command = command
        self.maxLineBytes = maxLineBytes
        service = ServiceDefinition(
            name: "wrap", summary: "Runs \(command.joined(separator: " ")) as a stage, one line out per line in.",
            accepts: accepts, emits: emits)
    }

    public func handle(batch: [Envelope]) async -> [StageOutcome] {
        lock.withLock { _ in batch.map { handleOne($0) } }
    }

    private func handleOne(_ message: Envelope) -> StageOutcome {
        do throws(RunnelError) {
            try startIfNeeded()
            var line: [UInt8] = []
            message.appendLine(to: &line)
            do {
                try input!.write(contentsOf: Data(line))
            } catch {
                stop()
                throw RunnelError(.unavailable, "\(command[0]) stopped reading its input: \(error.localizedDescription)")
            }
            guard let answer = try readLine() else {
                stop()
                throw RunnelError(.unavailable, "\(command[0]) exited without answering (it must print one line per input line)")
            }
            return try outcome(for: answer, input: message)
        } catch {
            return .fail(error)
        }
    }

    private func outcome(for answer: Data, input message: Envelope) throws(RunnelError) -> StageOutcome {
        let text = answer.filter { $0 != 0x0D }
        if text.isEmpty || text == Data("null".utf8) { return .emit([]) }
        let bytes = [UInt8](text)
        if let envelope = try? Envelope(line: bytes) {
            return .emit([Emission(type: envelope.type, body: envelope.body)])
        }
        let body: RawJSON
        do {
            body = try RawJSON(String(decoding: bytes, as: UTF8.self))
        } catch {
            throw RunnelError(.invalidArgument, "\(command[0]) answered with a line that is not JSON: \(String(decoding: bytes.prefix(200), as: UTF8.self))")
        }
        return .emit([Emission(type: message.type, body: body)])
    }

    private func startIfNeeded() throws(RunnelError) {
        if let process, process.isRunning { return }
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        child.arguments = command
        let stdin = Pipe()
        let stdout = Pipe()
        child.standardInput = stdin
        child.standardOutput = stdout
        child.standardError = FileHandle.standardError
        do {
            try child.run()
        } catch {
            throw RunnelError(.failedPrecondition, "cannot run \(command.joined(separator: " ")): \(error.localizedDescription)")
        }
        process = child
        input = stdin.fileHandleForWriting
        output = stdout.fileHandleForReading
        pending = Data()
    }

    /// The child's next answer line. Each byte is looked at once, however the line arrives.
    /// - Throws: ``RunnelError`` `RESOURCE_EXHAUSTED` for a line over `maxLineBytes`; the child
    ///   is stopped (its output is out of step) and started again for the next message.
    private func readLine() throws(RunnelError) -> Data? {
        var searched = 0
        while true {
            if let newline = pending[(pending.startIndex + searched)...].firstIndex(of: 0x0A) {
                let line = pending[pending.startIndex..<newline]
                pending = Data(pending[(newline + 1)...])
                return Data(line)
            }
            searched = pending.count
            guard pending.count <= maxLineBytes else {
                stop()
                throw RunnelError(
                    .resourceExhausted,
                    "\(command[0]) answered with a line longer than \(ByteSize(bytes: maxLineBytes)) (--max-line); it is started again")
            }
            guard let chunk = output?.availableData, !chunk.isEmpty else { return nil }
            pending.append(chunk)
        }
    }

    private func stop() {
        try? input?.close()
        if let process, process.isRunning { process.terminate() }
        process = nil
    }
}
