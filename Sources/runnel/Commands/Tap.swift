import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelStage
import RunnelSupervisor
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

struct Tap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tap",
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

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        let control = try pipeline.controlPath()
        let sides: Set<TapPoint.Side> = inputs == outputs ? [.inputs, .outputs] : (inputs ? [.inputs] : [.outputs])
        let session = TapSession(stage: stage, limit: limit)
        let clock = ContinuousClock()
        await withTaskGroup(of: Void.self) { group in
            while !session.isDone {
                let reply: ControlReply
                do throws(RunnelError) {
                    reply = try await ControlClient.request(control, .tap(stage: stage), timeout: .seconds(5))
                } catch {
                    if session.wasAnnounced { break }  // the pipeline ended
                    Standard.error("runnel tap: \(error.code.name): \(error.message)\n")
                    session.fail(ExitStatus(error))
                    break
                }
                guard case let .tap(tap) = reply else {
                    // A supervisor shutting down answers so: once the tap has begun, the
                    // pipeline ended, as when it no longer answers at all.
                    if session.wasAnnounced && reply.failure?.code == .unavailable { break }
                    // The pipeline refused the request: no such stage, or not a built-in one.
                    Standard.error("runnel tap: \(reply.failure?.message ?? "the supervisor did not answer with tap sockets")\n")
                    session.fail(.usage)
                    break
                }
                for path in tap.sockets where session.claim(path) {
                    group.addTask { await session.read(path, sides: sides, types: Set(types), processes: tap.sockets.count) }
                }
                if session.connections == 0 && ["stopped", "done", "failed", "stopping"].contains(tap.state) && session.wasAnnounced { break }
                // Ask again when a tap closes (its process ended: a restart brings a new one) or
                // after a second (a replica may have started).
                await session.waitForChange(upTo: .seconds(1), clock: clock)
            }
            session.stop()
            group.cancelAll()
        }
        if let failure = session.failure { throw failure.exitCode }
        session.finish()
    }
}

/// One `runnel tap`: its connections, what it printed, and what the stages dropped for it.
final class TapSession: Sendable {
    private struct State {
        var claimed: Set<String> = []
        var printed = 0
        var dropped: [String: Int] = [:]
        var lastNotice: ContinuousClock.Instant?
        var announced = false
        var done = false
        var failure: ExitStatus?
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let stage: String
    private let limit: Int?
    private let state = Mutex(State())

    init(stage: String, limit: Int?) {
        self.stage = stage
        self.limit = limit
    }

    var isDone: Bool { state.withLock { $0.done } }
    var connections: Int { state.withLock { $0.claimed.count } }
    var wasAnnounced: Bool { state.withLock { $0.announced } }
    var failure: ExitStatus? { state.withLock { $0.failure } }

    /// Takes a socket to read, unless it is being read already.
    func claim(_ path: String) -> Bool {
        state.withLock { $0.claimed.insert(path).inserted }
    }

    /// Ends the tap with an exit status.
    func fail(_ status: ExitStatus) {
        state.withLock {
            $0.failure = status
            $0.done = true
        }
    }

    /// Ends the tap (the reads are cancelled).
    func stop() {
        state.withLock { $0.done = true }
    }

    /// Returns when a tap connection ended, the tap is done, or after `timeout`.
    func waitForChange(upTo timeout: Duration, clock: ContinuousClock) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { s -> Bool in
                if s.done { return true }
                s.waiter = continuation
                return false
            }
            if ready {
                continuation.resume()
                return
            }
            Task {
                try? await clock.sleep(for: timeout)
                self.wake()
            }
        }
    }

    private func wake() {
        state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s.waiter = nil }
            return s.waiter
        }?.resume()
    }

    /// Reads one stage process's tap until it closes, the limit is reached or the task is cancelled.
    func read(_ path: String, sides: Set<TapPoint.Side>, types: Set<String>, processes: Int) async {
        defer {
            state.withLock { _ = $0.claimed.remove(path) }
            wake()
        }
        try? await TapClient.watch(path, sides: sides, types: types) { event in
            switch event {
            case .ready:
                // Announced once the stage took the request: what it does from now on is seen.
                if state.withLock({ s in defer { s.announced = true }; return !s.announced }) {
                    Standard.error("runnel tap: tapping \(stage) (\(processes) process\(processes == 1 ? "" : "es"))\n")
                }
                return true
            case let .message(line):
                return emit(line)
            case let .dropped(n):
                let (total, notify) = state.withLock { s -> (Int, Bool) in
                    s.dropped[path] = max(s.dropped[path] ?? 0, n)
                    let now = ContinuousClock.now
                    let notify = s.lastNotice.map { $0.duration(to: now) >= .seconds(1) } ?? true
                    if notify { s.lastNotice = now }
                    return (s.dropped.values.reduce(0, +), notify)
                }
                if notify { Standard.error("runnel tap: \(total) messages dropped so far: this tap reads slower than \(stage) works\n") }
                return true
            case let .bye(_, message):
                Standard.error("runnel tap: \(stage) closed the tap: \(message)\n")
                return true
            }
        }
    }

    /// Writes a line to stdout; false once done (the limit, or stdout went away).
    private func emit(_ line: [UInt8]) -> Bool {
        state.withLock { s in
            if s.done { return false }
            var out = line
            out.append(0x0A)
            var written = 0
            while written < out.count {
                let n = out.withUnsafeBytes { write(STDOUT_FILENO, $0.baseAddress! + written, $0.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && Readiness.wait(STDOUT_FILENO, for: Int16(POLLOUT)) {
                    continue  // a stdout another process made non-blocking: wait as a blocking write would
                } else {
                    s.done = true  // the reader of our output went away
                    return false
                }
            }
            s.printed += 1
            if let limit, s.printed >= limit { s.done = true }
            return !s.done
        }
    }

    /// Prints the summary on stderr.
    func finish() {
        let (count, drops) = state.withLock { ($0.printed, $0.dropped.values.reduce(0, +)) }
        var text = "runnel tap: \(count) messages from \(stage)"
        if drops > 0 { text += "; \(drops) dropped because this tap read slower than the stage worked" }
        Standard.error(text + "\n")
    }
}
