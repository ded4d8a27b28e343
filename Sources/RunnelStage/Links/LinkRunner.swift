import Foundation
import Dispatch
import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a stage between two endpoints with end-to-end acks.
///
/// Input comes from a socket it listens on (each upstream connection gets credits and
/// cumulative acks) or from a stream (stdin, a log). Output goes to the next stage over a socket
/// (acked, redelivered after a reconnect) or to a stream. An input is acked upstream only when
/// every output derived from it was acked downstream, or it was dead-lettered. On SIGTERM or
/// SIGINT it drains: stops taking input, finishes what it holds, waits for the acks, exits.
public final class LinkRunner<S: Stage>: Sendable {
    /// How a runner links up; every field has a default.
    public struct Options: Sendable {
        public var listen: Endpoint = .stdio
        public var to: Endpoint = .stdio
        public var key: SharedKey?
        /// Certificates and trust roots for `tls://` endpoints.
        public var tls = TLSSettings()
        /// Allow listening on TCP without a key.
        public var insecure = false
        /// Credit granted to each upstream connection; on a JetStream input, the fetched messages
        /// held unsettled. `nil`: ``defaultWindow``, or ``defaultNatsWindow`` on JetStream
        /// (``windowInForce``).
        public var window: Int?
        /// The credit each upstream connection gets when none is given.
        public static var defaultWindow: Int { 256 }
        /// The window of a JetStream input when none is given: a pull request asks for half the
        /// window, and requests of 256 read a work queue ~1.4× as fast as 128 (``PullSize``).
        public static var defaultNatsWindow: Int { 1024 }
        /// ``window``, or the default for where the stage reads.
        public var windowInForce: Int {
            if let window { return window }
            if case .nats = listen { return Self.defaultNatsWindow }
            return Self.defaultWindow
        }
        /// The bytes of messages in flight on each upstream connection that credit is granted
        /// for, at their average size: fewer than ``window`` large messages (``InboundWindow``).
        public var windowBytes = InboundWindow.defaultMaxBytes
        /// How many ids of finished messages are remembered, to drop a duplicate that an
        /// upstream sends again (PROTOCOL.md §8.5): a copy of one is acked without being processed.
        /// About 175 bytes each for 26-character ids (16,384: about 2.8 MiB); 0 turns it off. See
        /// ``DuplicateFilter``.
        public var recentIDs = 16_384
        /// Unacked outputs kept before the stage waits (backpressure).
        public var outputCapacity = 1024
        /// The bodies' bytes of unacked outputs kept before the stage waits, on a socket link:
        /// fewer than ``outputCapacity`` large messages. By default what the next stage's
        /// default credit lets be in flight (more would only wait unsent).
        public var outputBytes = InboundWindow.defaultMaxBytes
        public var ackTimeout: Duration = .seconds(30)
        public var maxDeliveries = 5
        /// The longest a drain (SIGTERM) takes: past it, what is not acked is left to the upstream
        /// to send again, and the stage exits.
        public var drainTimeout: Duration = .seconds(30)
        /// How long a connecting peer has to say `hello` before it is told `bye`
        /// `DEADLINE_EXCEEDED` and closed, so a silent peer cannot hold a connection forever.
        public var handshakeTimeout: Duration = .seconds(10)
        /// How long an open upstream link may stay silent: after a third of it without a line
        /// from the peer, it is pinged; a peer that sends nothing, not even a `pong`, for the
        /// whole of it is told `bye` `DEADLINE_EXCEEDED` and closed (PROTOCOL.md §7.6). A quiet
        /// but live peer answers the pings and stays.
        public var idleTimeout: Duration = .seconds(30)
        /// Connections the listener serves at once (handshakes included); one more is told `bye`
        /// `RESOURCE_EXHAUSTED` and closed.
        public var maxConnections = 128
        /// The most bytes kept for one connection whose peer does not read them (acks, pongs,
        /// call-mode replies); past it the connection is closed.
        public var maxUnread = LineWriter.defaultMaxUnread
        /// Refusals in a row (an untrusted certificate or key, types the peer does not take)
        /// after which the downstream link is given up and the stage stops; 5 s apart.
        public var maxRefusals = 12
        /// After the input ends by itself, how long to wait for acks without any arriving;
        /// `nil` waits as long as it takes (a supervised source: the pipeline may be restarting).
        public var finishTimeout: Duration? = .seconds(30)
        /// For a stream input: a file that keeps how many input lines are done end to end, so a
        /// restarted run resumes after them.
        public var cursorPath: String?
        /// For a file input: at its end, wait for more lines instead of ending (`--follow`).
        public var follow = false
        /// Where to write the statistics (JSON, once a second) for a supervisor to read.
        public var statisticsPath: String?
        /// Serve `runnel tap` on a Unix socket at this path plus `.PID.sock` (a supervisor sets it).
        public var tapPath: String?

        public init() {}
    }

    public let processor: StageProcessor<S>
    public let options: Options
    let logger: Logger
    let queue = WorkQueue<Job>()
    let stats = Mutex(StageStatistics())
    let draining = DrainSignal()
    /// What the runner opens while it runs and what the drain must reach: one lock for all.
    let parts = Mutex(Parts())
    /// The output link as the statistics reporter last saw it (the downstream is an actor).
    let outputLink = Mutex<LinkStatistics?>(nil)
    let deadLetterLog: DeadLetterLog?
    /// Where the messages the downstream refused or gave up go without a ``deadLetterLog``
    /// (``RunnerConfiguration/undeliveredPath``).
    let undeliveredLog: DeadLetterLog?
    /// The ids finished recently and those in progress, to drop duplicates from upstream links.
    let duplicates: Mutex<DuplicateFilter<ObjectIdentifier, Job>>
    /// `--capture-in` / `--capture-out`: data inputs as received, outputs as handed to the downstream.
    public let capture: StageCapture

    struct Parts {
        var listener: LinkListener?
        /// The upstream links open now, each with its connection.
        var links: [ObjectIdentifier: (InboundLink, LineConnection)] = [:]
        /// Connections being served, handshakes included (bounded by `maxConnections`).
        var connections = 0
        var output: (any Downstream)?
        var tap: TapPoint?
        /// Why the stage stops on its own (its downstream refused the link for good): it drains,
        /// and `run` ends with this error, so the command exits with its status instead of
        /// waiting for ever.
        var stopReason: RunnelError?
        /// Whether `run` has returned (a drain deadline after that has nothing to end).
        var finished = false
        /// Messages a drain left unsent (a stream input's: they were read, never handed on).
        var unsent = 0
        /// The drain's dropping of what a stream input read and has not sent, to wait for.
        var dropping: Task<Void, Never>?
    }

    typealias Job = LinkJob

    public init(
        stage: S, configuration: RunnerConfiguration, options: Options,
        logger: Logger? = nil
    ) throws(RunnelError) {
        let logger = logger ?? Logger(stage: stage.service.name)
        processor = StageProcessor(stage: stage, configuration: configuration) { retry in
            logger.warning("\(retry.description)")
        }
        self.options = options
        self.logger = logger
        duplicates = Mutex(DuplicateFilter(capacity: options.recentIDs))
        deadLetterLog = try configuration.deadLetterPath.map { path throws(RunnelError) in try DeadLetterLog(path: path) }
        undeliveredLog = try configuration.undeliveredPath.map { path throws(RunnelError) in try DeadLetterLog(path: path, lazily: true) }
        capture = try StageCapture(configuration)
        for warning in capture.warnings { logger.warning("capture log \(warning.isTornTail ? "repaired" : "damaged"): \(warning)") }
        if case .tcp = options.listen, options.key == nil, !options.insecure {
            throw RunnelError(
                .failedPrecondition,
                "listening on \(options.listen) without a shared key would let anyone on the network feed this stage; set RUNNEL_KEY or --key-file, or pass --insecure")
        }
        if case .tls = options.listen, options.key == nil, !options.tls.authenticatesPeers, !options.insecure {
            throw RunnelError(
                .failedPrecondition,
                "listening on \(options.listen) without a shared key or client certificates would let anyone on the network feed this stage; set RUNNEL_KEY or --key-file, or pass --tls-require-client-cert, or --insecure")
        }
    }

    var name: String { processor.stage.service.name }

    /// Runs until the input ends (a stream) or a stop signal (a listener), then drains.
    /// - Returns: the statistics, and how many outputs were still unacked at the end.
    public func run() async throws(RunnelError) -> (StageStatistics, unacked: Int) {
        openTap()
        let outcome: Result<(StageStatistics, unacked: Int), RunnelError>
        do {
            outcome = .success(try await runTapped())
        } catch {
            outcome = .failure(error)
        }
        // Tappers get what they are owed, whichever way the run ended.
        await parts.withLock { $0.tap }?.close()
        return try outcome.get()
    }

    /// ``run()`` once its tap (if any) is open.
    private func runTapped() async throws(RunnelError) -> (StageStatistics, unacked: Int) {
        // Watched before anything starts: a SIGTERM once the output link is trying to connect
        // (it says so) drains the stage, not kills it. A drain that begins before the output is
        // set finds nothing read, and the end of the run drops what was not sent.
        let signals = installSignals()
        defer { signals.cancel() }
        let downstream = try makeDownstream()
        parts.withLock { $0.output = downstream }
        let cursor = try options.cursorPath.map { path throws(RunnelError) in try InputCursor(path: path) }
        SupervisorWatch.start()

        let worker = Task { await self.work(downstream) }
        let reporter = options.statisticsPath.map { path in
            Task {
                while !Task.isCancelled {
                    let output = await downstream.linkStatistics()
                    self.outputLink.withLock { $0 = output }
                    self.writeStatistics(to: path)
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        defer {
            reporter?.cancel()
            if let path = options.statisticsPath { writeStatistics(to: path) }
        }
        let stopWatcher = capture.isActive && options.statisticsPath == nil ? Task {
            while !Task.isCancelled {
                self.capture.reportStops(to: self.logger)
                try? await Task.sleep(for: .seconds(1))
            }
        } : nil
        defer { stopWatcher?.cancel() }
        switch options.listen {
        case .stdio, .file:
            try await readStream(options.listen, cursor: cursor)
        case let .nats(endpoint):
            try await readNats(endpoint)
        default:
            try await serve()
        }
        queue.close()
        await worker.value
        // Every input has been handled: a stage that holds a resource (wrap: its child) lets it go.
        await processor.stage.finish()
        if isDraining && !options.listen.isSocket {
            let dropped = await downstream.dropUnsent()
            parts.withLock { $0.unsent += dropped }
        }
        let patience = isDraining ? options.drainTimeout : (options.finishTimeout ?? .seconds(365 * 86_400))
        let unacked = await downstream.drain(timeout: patience)
        // A drain that began while this one waited for acks dropped what was not sent yet.
        await parts.withLock { $0.dropping }?.value
        let unsent = parts.withLock { $0.unsent }
        if unsent > 0 { reportUnsent(unsent) }
        let cursorFailure = cursor?.flush()
        await downstream.stop()
        await capture.close()
        capture.reportStops(to: logger)
        let statistics = stats.withLock { $0 }
        if processor.configuration.verbose || statistics.failedTotal > 0 || unacked > 0 || isDraining {
            var line = statistics.summary(stage: name)
            if line.hasPrefix(name + ": ") { line.removeFirst(name.count + 2) }
            if unsent > 0 { line += "; \(unsent) of them never sent" }
            if unacked > 0 { line += "; \(unacked == 1 ? "1 output" : "\(unacked) outputs") never acked by \(options.to)" }
            logger.log(level: unacked > 0 ? .warning : .info, "\(line)")
        }
        let reason = parts.withLock { p -> RunnelError? in
            p.finished = true
            return p.stopReason
        }
        if let reason { throw reason }
        if let cursorFailure { throw cursorFailure }
        return (statistics, unacked)
    }

    var isDraining: Bool { draining.isRaised }

    /// Says what became of `count` messages a drain left unsent: left for the next run only where
    /// a cursor keeps the place.
    private func reportUnsent(_ count: Int) {
        let messages = count == 1 ? "1 message" : "\(count) messages"
        let were = count == 1 ? "was" : "were"
        switch (options.cursorPath, options.listen) {
        case let (path?, _):
            logger.info("\(messages) not sent yet \(count == 1 ? "is" : "are") left for the next run (\(path) keeps the place before them)")
        case (nil, .file):
            logger.warning("\(messages) read \(were) not sent; with no --cursor a next run starts again from the first line")
        default:
            logger.warning("\(messages) read from stdin \(were) not sent: give them again, or send from a file with --cursor to resume")
        }
    }

    func stop(because reason: RunnelError) {
        parts.withLock { $0.stopReason = $0.stopReason ?? reason }
        beginDrain()
    }

    /// Stop taking input; what is held is finished and acked.
    public func beginDrain() {
        guard draining.raise() else { return }
        logger.info("draining (finishing what is in flight, then exiting)")
        let (listener, output, links) = parts.withLock { ($0.listener, $0.output, Array($0.links.values)) }
        listener?.close()
        if !options.listen.isSocket, let downstream = output {
            // A source sends nothing more: what it read but did not send stays behind the cursor.
            // Counted and recorded in one step: `run`, which reads `dropping` to wait for it, either
            // finds it or drops the unsent outputs itself (it dropped nothing yet), so none goes
            // uncounted.
            let queued = queue.discardAndClose()
            parts.withLock { p in
                p.unsent += queued
                p.dropping = Task {
                    let dropped = await downstream.dropUnsent()
                    self.parts.withLock { $0.unsent += dropped }
                }
            }
        }
        for (link, connection) in links {
            Task { await self.drain(link, connection) }
        }
        // The drain is bounded as a whole: a next stage that never acks cannot keep this one
        // draining for ever. Past the time, what is still unacked is left to the upstream, which
        // sends it again (at-least-once), and the stage exits.
        let timeout = options.drainTimeout
        Task {
            try await Task.sleep(for: timeout)
            let (finished, links, output) = parts.withLock { ($0.finished, Array($0.links.values), $0.output) }
            guard !finished else { return }
            let reason = RunnelError(
                .deadlineExceeded, "still draining after \(TimeSpan(timeout)) (--drain-timeout); what is not acked is left to be sent again")
            logger.warning("\(reason.message)")
            for (link, connection) in links {
                linkBroke(link)
                connection.close()
            }
            await output?.giveUp(reason)
        }
    }

    func errorJob(_ record: Envelope, done: @escaping @Sendable () -> Void, replyTo: LineWriter? = nil) -> Job {
        Job(received: .init(record), done: done, replyTo: replyTo, isCapturedInput: false)
    }
}

/// One input a ``LinkRunner`` has taken in, with what to do once it is done.
///
/// Not nested in the generic runner: one is made per message, and a type nested in a generic
/// one is generic itself, so the queue, the duplicate filter and every array of jobs in the
/// runner's unspecialised code cost metadata lookups and witness calls (issue 14).
struct LinkJob: Sendable {
    var received: ReceivedMessage
    var done: @Sendable () -> Void
    /// In call mode, the link its outputs go back on (instead of downstream).
    var replyTo: LineWriter? = nil
    /// For an input its source can deliver again (JetStream): what to do when it failed.
    var redelivery: Redelivery? = nil
    /// A message that came in (not an error record made here for a bad line).
    var isCapturedInput = true
    /// The upstream link it came on; once that breaks, the job is dropped (it comes again).
    var origin: InboundLink? = nil
}
