import ArgumentParser
import Foundation
import Logging
import RunnelProtocol
import RunnelReplay
import RunnelStage
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Replay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Play captured messages into a stage, with acks, at their original pace or faster.",
        discussion: """
            Reads the data messages of each LOG (zstd or plain JSON lines; a rotated log by \
            its plain name) in order and sends the selected ones to the stage at ENDPOINT \
            with acks: unacked messages are resent after a reconnect, so a stage killed \
            and restarted midway loses nothing. --speed max (the default) sends as fast as \
            the stage's credit allows; --speed 1 keeps the gaps between the messages' ts,
            --speed 10 makes them ten times shorter, and --max-gap 5s cuts any longer wait \
            (a log with one timestamp a year ahead). --to - writes the selected lines, \
            unchanged, to stdout instead (plain, or --zstd), to feed a shell pipe.

            A progress bar with the rate and ETA is drawn on stderr when it is a terminal; \
            one summary line is printed at the end in any case. Exit status: 0 when every \
            message was acked, 1 otherwise; 65 when a damaged frame in the middle of a log was \
            skipped (DATA_LOSS with its offset; the frames after it are replayed), though a \
            torn tail is cut back with a warning only.

            --compare OUT_LOG is a regression check: the inputs go to the stage in call \
            mode (its outputs come back on the same connection), and each input's outputs \
            are compared, field by field, with the captured outputs whose parent is that \
            input, leaving out id, seq, ts, deadline_ms, body.fetched_at, body.elapsed_ms \
            (and --ignore PATH). It prints how many inputs gave identical outputs and the \
            first differences, e.g. body.title: "a" → "b". Exit status with --compare: 0 \
            when all are identical, 1 when some changed (or outputs are missing or \
            extra), 2 when some inputs were not acked.

              runnel replay in.jsonl.zst --to unix:/tmp/rn/parse.sock --speed 10
              runnel replay log.jsonl.zst --to - --since 10m | jq .body.title
              runnel replay fetched.jsonl.zst --to unix:/tmp/rn/parse.sock \\
                  --compare parsed.jsonl.zst
            """
    )

    @Argument(help: "The logs, read in order; '-' for stdin.")
    var logs: [String]

    @Option(help: .value("Where to send: unix:PATH or tcp://HOST:PORT (with acks), or '-' for stdout.", example: "unix:/tmp/rn/enrich.sock", valueName: "endpoint"))
    var to: String

    @Option(help: .value("max (as fast as the stage takes them), or a factor of the original pace (1 = as recorded).", example: "10, 0.5"))
    var speed: String = "max"

    @Option(
        name: .customLong("max-gap"),
        help: .value("With a --speed factor, never wait longer than this between two messages, whatever their ts say.", example: "5s", valueName: "duration"),
        transform: TimeSpan.argument("--max-gap"))
    var maxGap: TimeSpan?

    @Option(name: .customLong("type"), help: .value("Replay only messages of this type (repeatable).", example: "article.parsed", valueName: "type"))
    var types: [String] = []

    @Option(help: .value("Only messages made at or after this time: RFC 3339, or how long ago.", example: "10m, 2h, 2026-11-29T13:00:00Z", valueName: "time"))
    var since: String?

    @Option(help: .value("Only messages made before this time (the same forms as --since).", example: "1h", valueName: "time"))
    var until: String?

    @Option(help: .value("Replay at most this many messages.", example: "100"))
    var limit: Int?

    @Option(name: .customLong("where"), help: ArgumentHelp("Only messages whose field has this value, e.g. body.url=https://… or meta.site=… (repeatable: all must hold).", valueName: "field=value"))
    var conditions: [String] = []

    @Option(help: .value("Compare the stage's outputs (call mode) with these captured outputs.", example: "parsed.jsonl.zst", valueName: "out-log"))
    var compare: String?

    @Option(help: .value("With --compare, also leave out this field (dotted path; repeatable).", example: "body.summary", valueName: "path"))
    var ignore: [String] = []

    @Flag(help: "With --to -, write zstd instead of plain JSON lines.")
    var zstd = false

    @OptionGroup var key: KeyOption

    @Option(
        name: .customLong("ack-timeout"),
        help: .value("Wait this long for an ack before reconnecting to resend.", default: StageDefaults.ackTimeout, example: "45s", valueName: "duration"),
        transform: TimeSpan.argument("--ack-timeout", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var ackTimeout = StageDefaults.ackTimeout

    @Option(
        name: .customLong("finish-timeout"),
        help: .value("At the end, wait this long for acks without any arriving.", default: StageDefaults.finishTimeout, example: "2m", valueName: "duration"),
        transform: TimeSpan.argument("--finish-timeout", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var finishTimeout = StageDefaults.finishTimeout

    @Flag(name: .customLong("no-progress"), help: "Never draw the progress bar.")
    var noProgress = false

    @OptionGroup var stream: StreamOptions

    func validate() throws {
        if let limit, limit < 0 { throw ValidationError("--limit cannot be negative") }
        if compare != nil && to == "-" { throw ValidationError("--compare needs a stage to call: --to unix:PATH or tcp://HOST:PORT") }
    }

    func run() async throws {
        signal(SIGPIPE, SIG_IGN)
        do {
            let selection = try makeSelection()
            let problems = ProblemCount()
            let messages = LogMessages(paths: logs, limits: stream.limits) { error, source in
                problems.add(error)
                report(error, in: source)
            }
            let replayer = Replayer(
                messages: messages, selection: selection, speed: try ReplayClock.Speed(parsing: speed), maxGap: maxGap?.duration,
                keepingIDs: compare != nil
            ) { wait, ts in
                Standard.error(
                    "runnel replay: notice: the next message\(ts.map { " (ts \($0))" } ?? "") is due in \(TimeSpan(.seconds(wait.components.seconds))) at --speed \(speed); waiting (--max-gap caps each wait)\n")
            }
            let replies = CallReplies()
            let target: any ReplayTarget
            if to == "-" {
                target = StreamTarget(output: FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10), zstd: zstd)
            } else {
                let endpoint = try Endpoint(parsing: to)
                guard endpoint.isSocket else {
                    throw RunnelError(.invalidArgument, "replay sends to a socket (unix:PATH or tcp://HOST:PORT) or to '-' (stdout), not \(to)")
                }
                var options = ReliableSender.Options()
                options.key = try key.load()
                options.ackTimeout = ackTimeout.duration
                // A replay sends logged ids again on purpose: "replay" asks the stage not to drop
                // them as duplicates of messages it finished (PROTOCOL.md §7.10, §8.5).
                options.mode = compare != nil ? "call" : "replay"
                var onReply: (@Sendable (Envelope, Int) -> Void)?
                if compare != nil { onReply = { output, connection in replies.record(output, connection: connection) } }
                let sender = ReliableSender(
                    endpoint: endpoint, options: options, onReply: onReply)
                await sender.start()
                target = SocketTarget(sender: sender, patience: finishTimeout.duration)
            }
            let bar = !noProgress && isatty(STDERR_FILENO) == 1 && !RunnelLogging.isJSON ? ProgressBar(replayer: replayer, target: target) : nil
            bar?.start()
            let result = try await replayer.run(into: target)
            await bar?.stop()
            Logger(stage: "replay").log(level: result.unacked + result.failed > 0 ? .warning : .info, "\(Self.summary(result, to: to))")
            if let compare {
                try finishComparison(compare, ids: replayer.ids, replies: replies, result: result)
            }
            if result.unacked > 0 { throw ExitStatus.unavailable.exitCode }
            if result.failed > 0 { throw ExitStatus.failure.exitCode }
            if problems.count > 0 && result.sent == 0 { throw problems.first.exitCode }
            // A damaged frame was skipped (a torn tail is normal after a crash: not counted).
            if problems.damaged > 0 { throw ExitStatus.dataError.exitCode }
        } catch let error as RunnelError {
            if error.isBrokenPipe && to == "-" { throw ExitStatus.success.exitCode }  // `| head` went away
            report(error, in: "replay")
            throw ExitStatus(error).exitCode
        }
    }

    private func makeSelection() throws(RunnelError) -> Selection {
        var selection = Selection()
        selection.types = Set(types)
        for (flag, text) in [("--since", since), ("--until", until)] {
            if let text, Selection.isLegacyTime(text) {
                Deprecation.warn("\(flag)=\(text): the minus sign is deprecated; write \(flag) \(text.dropFirst()) (how long ago)")
            }
        }
        selection.since = try since.map { text throws(RunnelError) in try Selection.time(text) }
        selection.until = try until.map { text throws(RunnelError) in try Selection.time(text) }
        selection.limit = limit
        selection.conditions = try conditions.map { text throws(RunnelError) in try Selection.Condition(parsing: text) }
        return selection
    }

    /// Compares the outputs that came back with the captured ones and prints the summary.
    private func finishComparison(_ path: String, ids: [String], replies: CallReplies, result: Replayer.Report) throws {
        let sent = Set(ids)
        var captured: [String: [Envelope]] = [:]
        var unmatched = 0
        for message in LogMessages(paths: [path], limits: stream.limits, problem: { error, source in report(error, in: source) }) {
            if let parent = message.envelope.parent, sent.contains(parent) {
                captured[parent, default: []].append(message.envelope)
            } else {
                unmatched += 1
            }
        }
        let comparison = OutputComparison(
            inputs: ids, captured: captured, replayed: replies.byParent,
            ignoring: OutputComparison.ignoredByDefault.union(ignore))
        var text = comparison.summary()
        if unmatched > 0 { text += "  (\(unmatched) captured outputs have no input among those replayed: not compared)\n" }
        print(text, terminator: "")
        if result.unacked > 0 || result.failed > 0 {
            Logger(stage: "replay").warning("\(result.unacked + result.failed) inputs were not acked: the comparison is incomplete")
            throw ExitStatus.unavailable.exitCode
        }
        if !comparison.isIdentical { throw ExitStatus.failure.exitCode }
    }

    /// `2000 sent, 2000 acked, 0 failed in 1.24 s (1612/s)`.
    static func summary(_ report: Replayer.Report, to: String) -> String {
        let seconds = Double(report.elapsed.components.seconds) + Double(report.elapsed.components.attoseconds) / 1e18
        var text = "\(report.sent) sent, "
        text += to == "-" ? "\(report.acked) written" : "\(report.acked) acked, \(report.failed) failed"
        if report.unacked > 0 { text += ", \(report.unacked) never acked" }
        text += String(format: " in %.2f s (%.0f/s)", seconds, report.rate)
        return text
    }
}

/// Problems met while reading the logs.
final class ProblemCount: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    private var status = ExitStatus.success
    private var damage = 0
    func add(_ error: RunnelError) {
        lock.withLock {
            value += 1
            status.keepFirst(error)
            if error.code == .dataLoss && !error.isTornTail { damage += 1 }
        }
    }
    var count: Int { lock.withLock { value } }
    /// Damaged frames and streams (`DATA_LOSS` other than a torn tail).
    var damaged: Int { lock.withLock { damage } }
    /// The status of the first problem.
    var first: ExitStatus { lock.withLock { status } }
}

/// `[=========>          ] 1200/5000  24%  810/s  ETA 4 s` on stderr, redrawn 5 times a second.
final class ProgressBar: @unchecked Sendable {
    private let replayer: Replayer
    private let target: any ReplayTarget
    private var task: Task<Void, Never>?

    init(replayer: Replayer, target: any ReplayTarget) {
        self.replayer = replayer
        self.target = target
    }

    func start() {
        let replayer = replayer
        let target = target
        task = Task.detached {
            let total = replayer.count()  // one more pass over the logs, for the ETA
            let start = ContinuousClock.now
            while !Task.isCancelled {
                let sent = replayer.sent
                let acked = target.acked
                let elapsed = start.duration(to: .now)
                let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
                let rate = seconds > 0 ? Double(acked) / seconds : 0
                let fraction = total > 0 ? min(Double(acked) / Double(total), 1) : 0
                let width = 24
                let filled = Int(fraction * Double(width))
                let bar = String(repeating: "=", count: filled) + (filled < width ? ">" + String(repeating: " ", count: width - filled - 1) : "")
                let eta = rate > 0 ? "\(Int(Double(max(total - acked, 0)) / rate)) s" : "–"
                Standard.error(String(format: "\r\u{1B}[K[%@] %d/%d sent %d acked %3.0f%%  %.0f/s  ETA %@", bar, sent, total, acked, fraction * 100, rate, eta))
                try? await Task.sleep(for: .milliseconds(200))
            }
            Standard.error("\r\u{1B}[K")
        }
    }

    func stop() async {
        task?.cancel()
        await task?.value
        task = nil
    }
}
