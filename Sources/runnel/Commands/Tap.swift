import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelSupervisor
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Tap: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch what a stage of a running pipeline reads and writes, as plain JSON lines.",
        usage: "runnel tap <stage> [<options>]",
        discussion: """
            Asks the pipeline's supervisor where STAGE's processes offer their tap, connects \
            to each, and prints copies of the messages they take in (--inputs), send out \
            (--outputs), or both (the default), until --limit messages, Ctrl-C, or the end \
            of the pipeline. A restarted stage is tapped again. The tap never slows the \
            pipeline: a tap that reads slower than the stage works loses messages, for \
            itself alone, and says how many on stderr ("dropped").

              runnel tap parse --outputs | jq -r .body.title
              runnel tap fetch --type page.fetched --limit 1 | jq .body.status
            """
    )

    @Argument(help: "The stage to watch, as named in the pipeline file (or source).")
    var stage: String

    @Flag(help: "Only the messages the stage takes in.")
    var inputs = false

    @Flag(help: "Only the messages the stage sends out (error records included).")
    var outputs = false

    @Option(name: .customLong("type"), help: .value("Only messages of this type (repeatable).", example: "article.parsed", valueName: "type"))
    var types: [String] = []

    @Option(help: .value("Stop after this many messages.", example: "10"))
    var limit: Int?

    @OptionGroup var pipeline: PipelineName

    func validate() throws {
        if let limit, limit <= 0 { throw ValidationError("--limit must be at least 1") }
    }

    func run() throws {
        signal(SIGPIPE, SIG_IGN)
        let control = try pipeline.controlPath()
        let sides = inputs == outputs ? ["inputs", "outputs"] : (inputs ? ["inputs"] : ["outputs"])
        let request = (try? JSONSerialization.data(withJSONObject: ["sides": sides, "types": types])) ?? Data()
        let session = TapSession(stage: stage, limit: limit)
        var announced = false
        while !session.isDone {
            let reply: [String: Any]
            do {
                reply = try ControlClient.request(control, ["op": "tap", "stage": stage])
            } catch {
                if announced { break }  // the pipeline ended
                Standard.error("runnel tap: \(error.code.name): \(error.message)\n")
                throw ExitStatus(error).exitCode
            }
            if let error = reply["error"] as? String {
                // The pipeline refused the request: no such stage, or not a built-in one.
                Standard.error("runnel tap: \(error)\n")
                throw ExitStatus.usage.exitCode
            }
            let sockets = reply["sockets"] as? [String] ?? []
            for path in sockets where session.claim(path) {
                Thread { session.read(path, request: request) }.start()
            }
            if !announced && !sockets.isEmpty {
                Standard.error("runnel tap: tapping \(stage) (\(sockets.count) process\(sockets.count == 1 ? "" : "es"))\n")
                announced = true
            }
            let state = reply["state"] as? String ?? ""
            if session.connections == 0 && ["stopped", "done", "failed", "stopping"].contains(state) && announced { break }
            usleep(200_000)
        }
        session.finish()
    }
}

/// One `runnel tap`: its connections, what it printed, and what the stages dropped for it.
final class TapSession: @unchecked Sendable {
    // `lock` guards everything below.
    private let lock = NSLock()
    private let stage: String
    private let limit: Int?
    private var claimed: Set<String> = []
    private var open = 0
    private var printed = 0
    private var dropped: [String: Int] = [:]
    private var lastNotice = Date.distantPast
    private var done = false

    init(stage: String, limit: Int?) {
        self.stage = stage
        self.limit = limit
    }

    var isDone: Bool { lock.withLock { done } }
    var connections: Int { lock.withLock { open } }

    /// Takes a socket to read, unless it is being read already.
    func claim(_ path: String) -> Bool {
        lock.withLock {
            guard !claimed.contains(path) else { return false }
            claimed.insert(path)
            open += 1
            return true
        }
    }

    /// Reads one stage process's tap until it closes (runs on its own thread).
    func read(_ path: String, request: Data) {
        defer {
            lock.withLock {
                open -= 1
                claimed.remove(path)
            }
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        guard let address = try? UnixSocketAddress(path), address.connect(fd) == 0 else { return }
        var line = [UInt8](request)
        line.append(0x0A)
        guard line.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == line.count else { return }

        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return }
            pending.append(contentsOf: buffer[0..<n])
            var out: [UInt8] = []
            var start = 0
            var count = 0
            while let newline = pending[start...].firstIndex(of: 0x0A) {
                let text = pending[start..<newline]
                start = newline + 1
                if text.starts(with: Array(#"{"ctl":"#.utf8)) {
                    control(Array(text), from: path)
                    continue
                }
                if let limit, printedSoFar + count >= limit { break }
                out.append(contentsOf: text)
                out.append(0x0A)
                count += 1
            }
            pending.removeFirst(start)
            if !emit(out, count: count) { return }
        }
    }

    private var printedSoFar: Int { lock.withLock { printed } }

    /// Writes lines to stdout; false once done (the limit, or stdout went away).
    private func emit(_ out: [UInt8], count: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if done { return false }
        var written = 0
        while written < out.count {
            let n = out.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
            if n > 0 {
                written += n
            } else if n < 0 && errno == EINTR {
                continue
            } else {
                done = true  // the reader of our output went away
                return false
            }
        }
        printed += count
        if let limit, printed >= limit { done = true }
        return !done
    }

    /// A `tap-dropped` count (from the start of this tap) or a `bye` from a stage process.
    private func control(_ line: [UInt8], from path: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] else { return }
        switch object["ctl"] as? String {
        case "tap-dropped":
            let n = (object["dropped"] as? Int) ?? 0
            let (total, notify) = lock.withLock { () -> (Int, Bool) in
                dropped[path] = max(dropped[path] ?? 0, n)
                let notify = Date().timeIntervalSince(lastNotice) >= 1
                if notify { lastNotice = Date() }
                return (dropped.values.reduce(0, +), notify)
            }
            if notify { Standard.error("runnel tap: \(total) messages dropped so far: this tap reads slower than \(stage) works\n") }
        case "bye":
            Standard.error("runnel tap: \(stage) closed the tap: \(object["message"] as? String ?? "")\n")
        default:
            break
        }
    }

    /// Prints the summary on stderr.
    func finish() {
        let (count, drops) = lock.withLock { (printed, dropped.values.reduce(0, +)) }
        var text = "runnel tap: \(count) messages from \(stage)"
        if drops > 0 { text += "; \(drops) dropped because this tap read slower than the stage worked" }
        Standard.error(text + "\n")
    }
}
