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
        /// Credit granted to each upstream connection.
        public var window = 256
        /// Unacked outputs kept before the stage waits (backpressure).
        public var outputCapacity = 1024
        public var ackTimeout: Duration = .seconds(30)
        public var maxDeliveries = 5
        /// The longest a drain (SIGTERM) takes: past it, what is not acked is left to the upstream
        /// to send again, and the stage exits.
        public var drainTimeout: Duration = .seconds(30)
        /// How long a connecting peer has to say `hello` before it is told `bye`
        /// `DEADLINE_EXCEEDED` and closed, so a silent peer cannot hold a connection forever.
        public var handshakeTimeout: Duration = .seconds(10)
        /// Refusals in a row (an untrusted certificate or key, types the peer does not take)
        /// after which the downstream link is given up and the stage stops; 5 s apart.
        public var maxRefusals = 12
        /// After the input ends by itself, how long to wait for acks without any arriving;
        /// `nil` waits as long as it takes (a supervised source: the pipeline may be restarting).
        public var finishTimeout: Duration? = .seconds(30)
        /// For a stream input: a file that keeps how many input lines are done end to end, so a
        /// restarted run resumes after them.
        public var cursorPath: String?
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
    private let listener = Mutex<LinkListener?>(nil)
    private let openLinks = Mutex<[ObjectIdentifier: (InboundLink, LineConnection)]>([:])
    private let output = Mutex<(any Downstream)?>(nil)
    private let deadLetterLog: DeadLetterLog?
    private let tap = Mutex<TapPoint?>(nil)
    /// `--capture-in` / `--capture-out`: data inputs as received, outputs as handed to the downstream.
    public let capture: StageCapture

    struct Job: Sendable {
        var received: StageProcessor<S>.Received
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
        deadLetterLog = try configuration.deadLetterPath.map { path throws(RunnelError) in try DeadLetterLog(path: path) }
        capture = try StageCapture(configuration)
        for warning in capture.warnings { logger.warning("capture log repaired: \(warning)") }
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
        let downstream = try makeDownstream()
        output.withLock { $0 = downstream }
        let cursor = try options.cursorPath.map { path throws(RunnelError) in try InputCursor(path: path) }
        let signals = installSignals()
        defer { for source in signals { source.cancel() } }
        SupervisorWatch.start()
        openTap()
        defer { tap.withLock { $0 }?.close() }

        let worker = Task { await self.work(downstream) }
        let reporter = options.statisticsPath.map { path in
            Task {
                while !Task.isCancelled {
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
        if isDraining && !options.listen.isSocket { _ = await downstream.dropUnsent() }
        let patience = isDraining ? options.drainTimeout : (options.finishTimeout ?? .seconds(365 * 86_400))
        let unacked = await downstream.drain(timeout: patience)
        cursor?.flush()
        await downstream.stop()
        await capture.close()
        capture.reportStops(to: logger)
        let statistics = stats.withLock { $0 }
        if processor.configuration.verbose || statistics.failedTotal > 0 || unacked > 0 || isDraining {
            var line = statistics.summary(stage: name)
            if line.hasPrefix(name + ": ") { line.removeFirst(name.count + 2) }
            if unacked > 0 { line += "; \(unacked) outputs never acked by \(options.to)" }
            logger.log(level: unacked > 0 ? .warning : .info, "\(line)")
        }
        finished.withLock { $0 = true }
        if let reason = stopReason.withLock({ $0 }) { throw reason }
        return (statistics, unacked)
    }

    var isDraining: Bool { draining.isRaised }

    /// Why the stage stops on its own (its downstream refused the link for good): it drains, and
    /// `run` ends with this error, so the command exits with its status instead of waiting for ever.
    private let stopReason = Mutex<RunnelError?>(nil)
    /// Whether `run` has returned (a drain deadline after that has nothing to end).
    private let finished = Mutex(false)

    private func stop(because reason: RunnelError) {
        stopReason.withLock { $0 = $0 ?? reason }
        beginDrain()
    }

    /// Stop taking input; what is held is finished and acked.
    public func beginDrain() {
        guard draining.raise() else { return }
        logger.info("draining (finishing what is in flight, then exiting)")
        listener.withLock { $0 }?.close()
        if !options.listen.isSocket, let downstream = output.withLock({ $0 }) {
            // A source sends nothing more: what it read but did not send stays behind the cursor.
            let queued = queue.discardAndClose()
            Task {
                let dropped = queued + (await downstream.dropUnsent())
                if dropped > 0 { self.logger.info("\(dropped) messages not sent yet are left for the next run") }
            }
        }
        for (link, connection) in openLinks.withLock({ Array($0.values) }) {
            Task { await self.drain(link, connection) }
        }
        // The drain is bounded as a whole: a next stage that never acks cannot keep this one
        // draining for ever. Past the time, what is still unacked is left to the upstream, which
        // sends it again (at-least-once), and the stage exits.
        let timeout = options.drainTimeout
        Task {
            try await Task.sleep(for: timeout)
            guard !finished.withLock({ $0 }) else { return }
            let links = openLinks.withLock { Array($0.values) }
            let reason = RunnelError(
                .deadlineExceeded, "still draining after \(TimeSpan(timeout)) (--drain-timeout); what is not acked is left to be sent again")
            logger.warning("\(reason.message)")
            for (link, connection) in links {
                link.abandon()
                connection.close()
            }
            await output.withLock({ $0 })?.giveUp(reason)
        }
    }

    /// Stops granting credit to one upstream, finishes and acks what it sent, says `bye` and
    /// closes; the sender keeps the rest for another receiver (PROTOCOL.md §7.7).
    private func drain(_ link: InboundLink, _ connection: LineConnection) async {
        link.stopGranting()
        await link.settled()
        link.flush()
        link.reply(.bye(Bye(code: .unavailable, message: "\(name) is draining")))
        // The bye reaches the peer before the close; a peer that does not read is cut off.
        let cutOff = Task {
            try await Task.sleep(for: Self.byeFlushTimeout)
            connection.close()
        }
        await link.finishWriting()
        cutOff.cancel()
        connection.close()
    }

    /// The longest a draining link waits for its `bye` to reach the socket before it closes.
    static var byeFlushTimeout: Duration { .seconds(1) }

    // MARK: Output

    private func makeDownstream() throws(RunnelError) -> any Downstream {
        let configuration = processor.configuration
        switch options.to {
        case .stdio:
            return StreamDownstream(
                output: FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10),
                zstd: configuration.zstdOutput, level: configuration.zstdLevel, sync: false, logger: logger)
        case let .file(path):
            return StreamDownstream(
                output: try FileOutput(path: path, append: true), zstd: path.hasSuffix(".zst"), level: configuration.zstdLevel,
                sync: true, logger: logger)
        case .unix, .tcp, .tls:
            let service = processor.stage.service
            let hello = Hello(stage: service.name, accepts: service.accepts, emits: service.emits)
            let link = LinkDownstream(
                endpoint: options.to, tls: options.tls, handshake: Handshake(local: hello, key: options.key),
                capacity: options.outputCapacity, maxDeliveries: options.maxDeliveries,
                ackTimeout: options.ackTimeout, logger: logger,
                deadLetter: { [weak self] message, error in await self?.deadLetterRefused(message, error) },
                maxRefusals: options.maxRefusals, onRefused: { [weak self] error in self?.stop(because: error) })
            Task { await link.start() }
            return link
        case let .nats(endpoint):
            let nats = NatsDownstream(
                endpoint: endpoint, stage: name, capacity: options.outputCapacity, answerTimeout: options.ackTimeout, logger: logger,
                deadLetter: { [weak self] message, error in await self?.deadLetterRefused(message, error) })
            nats.start()
            return nats
        case .descriptor:
            throw RunnelError(.invalidArgument, "fd: endpoints are for listening; --to needs unix:, tcp://, tls://, nats://, file: or -")
        }
    }

    /// A message the next stage refused for good.
    private func deadLetterRefused(_ message: Outgoing, _ error: RunnelError) async {
        let failure = processor.errorRecord(error, for: message.envelope)
        record(failure, retried: false)
        if let deadLetterLog {
            try? await deadLetterLog.write([failure])
        } else {
            logger.error("no --dead-letter log; the refused message is only reported here: \(failure.jsonLine)")
        }
        message.ticket.release()
    }

    /// Counts and logs a failure; `retried`: the processor tried it (so the line says whether it
    /// gave up), not the next stage (whose refusals the downstream retries and reports).
    private func record(_ record: Envelope, retried: Bool = true) {
        guard let body = try? record.body.decode(ErrorRecord.self) else { return }
        stats.withLock { $0.failed[body.code, default: 0] += 1 }
        let subject = body.url.map { " \($0)" } ?? ""
        logger.warning("\(body.status)\(subject): \(body.message)\(retried ? body.outcome : "")")
    }

    // MARK: Work

    private func work(_ downstream: any Downstream) async {
        let batchSize = processor.configuration.batchSize
        let tap = self.tap.withLock { $0 }
        while let taken = await queue.take(max: batchSize) {
            let jobs = taken.filter { !($0.origin?.isAbandoned ?? false) }
            if jobs.isEmpty { continue }
            let results = await processor.process(jobs.map(\.received))
            if let tap, tap.isTapped {
                tap.publish(.inputs, jobs.map(\.received.envelope))
                tap.publish(.outputs, results.flatMap { $0.outputs + $0.deadLetters })
            }
            var outgoing: [Outgoing] = []
            for (job, result) in zip(jobs, results) {
                if let caller = job.replyTo {
                    // Call mode: outputs and failures go back to the caller; then the input is done.
                    let lines = (result.outputs + result.deadLetters).map { message -> WireLine in
                        var reply = message
                        reply.seq = nil
                        return .data(reply)
                    }
                    if (try? caller.send(lines)) != nil { job.done() }
                    continue
                }
                var count = result.outputs.count
                var deadLetters: [Envelope] = []
                if deadLetterLog != nil {
                    deadLetters = result.deadLetters
                } else {
                    count += result.deadLetters.count
                }
                var onDone = job.done
                if let redelivery = job.redelivery, result.outputs.isEmpty, !result.deadLetters.isEmpty {
                    // Its source can deliver it again: a retryable failure goes back (JetStream
                    // nak, after a backoff) until its deliveries are spent; the others are
                    // dead-lettered and never come back (term).
                    if let code = retryableFailure(result.deadLetters) {
                        let delay = Duration.milliseconds(processor.configuration.backoffMs(afterAttempt: redelivery.delivery))
                        if redelivery.retryLater(delay) {
                            stats.withLock { $0.retried += 1 }
                            logger.warning("\(code.name) on delivery \(redelivery.delivery) of \(result.input.id); handed back to be delivered again in \(delay)")
                            continue
                        }
                    }
                    onDone = redelivery.abandon
                }
                let ticket = Ticket(count: count + (deadLetters.isEmpty ? 0 : 1), origin: job.origin, onDone: onDone)
                for message in result.outputs { outgoing.append(Outgoing(envelope: message, ticket: ticket)) }
                for message in result.deadLetters {
                    self.record(message)
                    if deadLetterLog == nil { outgoing.append(Outgoing(envelope: message, ticket: ticket)) }
                }
                if !deadLetters.isEmpty, let deadLetterLog {
                    do {
                        try await deadLetterLog.write(deadLetters)
                        ticket.release()
                    } catch {
                        logger.error("cannot write the dead-letter log (\(error)); the input stays unacked")
                    }
                }
                stats.withLock {
                    $0.emitted += result.outputs.count
                    $0.latency.record(job.received.receivedAt.duration(to: .now))
                    if result.attempts > 1 { $0.retried += result.attempts - 1 }
                }
            }
            if capture.output != nil { capture.sent(outgoing.map(\.envelope)) }
            await downstream.send(outgoing)
        }
    }

    // MARK: Input from a stream

    private func readStream(_ endpoint: Endpoint, cursor: InputCursor?) async throws(RunnelError) {
        let input: FileInput
        switch endpoint {
        case let .file(path): input = try FileInput(path: path)
        default: input = try FileInput(path: "-")
        }
        let box = InputBox(input)
        let decoder = StreamDecoder(limits: processor.configuration.limits)
        let limit = InFlightLimit(options.outputCapacity)
        let skip = cursor?.start ?? 0
        if skip > 0 { logger.info("resuming after line \(skip) (cursor \(cursor!.path))") }
        /// Called when the input line `index` (0-based) is done end to end.
        func lineDone(_ index: Int) -> @Sendable () -> Void {
            { limit.release(); cursor?.complete(index) }
        }
        let io = DispatchQueue(label: "runnel.link.input")
        var finished = false
        while !finished && !isDraining {
            let chunk: [UInt8]? = await withCheckedContinuation { continuation in
                io.async {
                    var bytes: [UInt8]?
                    _ = try? box.input.read { bytes = Array($0) }
                    continuation.resume(returning: bytes)
                }
            }
            var jobs: [Job] = []
            let now = ContinuousClock.now
            func take(_ event: LineEvent) {
                switch event {
                case let .invalid(error):
                    // An over-long line: its number is the next one.
                    let index = decoder.lineNumber
                    guard index >= skip else { return }
                    jobs.append(errorJob(processor.errorRecord(error, rawLine: ""), done: lineDone(index)))
                case let .line(bytes, number):
                    let index = number - 1
                    guard index >= skip else { return }
                    if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 }), first == UInt8(ascii: "#") {
                        lineDone(index)()  // a comment in a URL list
                        return
                    }
                    do throws(RunnelError) {
                        if case let .data(envelope) = try WireLine(line: bytes) {
                            jobs.append(Job(received: .init(envelope, receivedAt: now), done: lineDone(index)))
                        } else {
                            lineDone(index)()
                        }
                    } catch {
                        // A line that is not a message may still be one for this stage (fetch: a bare URL).
                        if let adopted = processor.stage.adopt(rawLine: String(decoding: bytes, as: UTF8.self)) {
                            jobs.append(Job(received: .init(adopted, receivedAt: now), done: lineDone(index)))
                            return
                        }
                        let raw = String(decoding: bytes.prefix(4096), as: UTF8.self)
                        jobs.append(errorJob(processor.errorRecord(error.at(.line(number)), rawLine: raw), done: lineDone(index)))
                    }
                }
            }
            do {
                if let chunk {
                    try decoder.feed(chunk) { take($0) }
                } else {
                    finished = true
                    try decoder.finish { take($0) }
                }
            } catch {
                let error = error as? RunnelError ?? RunnelError(.internal, "\(error)")
                jobs.append(errorJob(processor.errorRecord(error, rawLine: ""), done: { limit.release() }))
                finished = true
            }
            stats.withLock { $0.received += jobs.count }
            if capture.input != nil { capture.received(jobs.compactMap { $0.isCapturedInput ? $0.received.envelope : nil }) }
            await limit.acquire(jobs.count)
            queue.push(jobs)
        }
    }

    func errorJob(_ record: Envelope, done: @escaping @Sendable () -> Void, replyTo: LineWriter? = nil) -> Job {
        Job(received: .init(record), done: done, replyTo: replyTo, isCapturedInput: false)
    }

    // MARK: Input from a socket

    private func serve() async throws(RunnelError) {
        let bound = try await LinkListener.bind(options.listen, tls: options.tls)
        listener.withLock { $0 = bound }
        logger.debug("listening on \(options.listen)\(bound.port.map { " (port \($0))" } ?? "")")  // tests read the port the OS picked for :0
        if isDraining { bound.close() }
        do {
            try await bound.serve { connection in await self.handle(connection) }
        } catch {
            if !isDraining { throw RunnelError(.unavailable, "listener on \(options.listen) failed: \(error)") }
        }
        // Wait for the work already taken in to finish before the queue closes.
        await queue.emptied()
    }

    private func handle(_ connection: LineConnection) async {
        let service = processor.stage.service
        let hello = Hello(stage: service.name, accepts: service.accepts, emits: service.emits)
        let handshake = Handshake(local: hello, key: options.key)
        do {
            try await connection.run(limits: processor.configuration.limits) { reader, writer in
                // A peer that connects and says nothing is told why and cut off.
                let timeout = options.handshakeTimeout
                let deadline = Task {
                    try await Task.sleep(for: timeout)
                    let error = RunnelError(
                        .deadlineExceeded, "no hello within \(TimeSpan(timeout)) (--handshake-timeout); closing the connection")
                    try? writer.send(.bye(Bye(code: error.code, message: error.message)))
                    await writer.finishAndFlush()
                    connection.close()
                }
                let peer: Hello
                do {
                    peer = try await handshake.accept(&reader, writer)
                    deadline.cancel()
                } catch {
                    deadline.cancel()
                    throw error
                }
                logger.debug("\(peer.stage) connected from \(connection.peer)")
                let link = InboundLink(writer: writer, window: options.window, peer: peer.stage)
                let caller = peer.mode == "call" ? writer : nil
                try link.open()
                let key = ObjectIdentifier(link)
                openLinks.withLock { $0[key] = (link, connection) }
                defer { openLinks.withLock { _ = $0.removeValue(forKey: key) } }
                if isDraining { Task { await self.drain(link, connection) } }
                var peerDrained = false
                // A link that breaks (or ends without a drain) leaves its unacked messages to be
                // sent again: what is still pending for them here is dropped, not done twice.
                defer { if !peerDrained { link.abandon() } }
                reading: while let inputs = try await reader.nextBatch() {
                    var jobs: [Job] = []
                    var data: [Envelope] = []
                    for input in inputs {
                        switch input {
                        case let .refused(error, raw):
                            // Skipped and dead-lettered; the link stays open (PROTOCOL.md §7.9).
                            jobs.append(errorJob(processor.errorRecord(error, rawLine: raw), done: {}, replyTo: caller))
                        case let .line(.data(envelope)):
                            if envelope.seq == nil {
                                let error = RunnelError(
                                    .invalidArgument, "a data message on a link needs \"seq\" (id \(envelope.id))")
                                jobs.append(errorJob(processor.errorRecord(error, for: envelope), done: {}, replyTo: caller))
                            } else {
                                data.append(envelope)
                            }
                        case let .line(.control(control)):
                            switch control {
                            case let .ping(id): link.reply(.pong(id: id))
                            case .health(nil): link.reply(.health(isDraining ? .notServing : .serving))
                            case .describe(nil): link.reply(.describe(service))
                            case .drain: peerDrained = true
                            default: break
                            }
                        }
                    }
                    let now = ContinuousClock.now
                    for (envelope, fresh) in zip(data, try link.receive(seqs: data.map { $0.seq! })) where fresh {
                        let seq = envelope.seq!
                        jobs.append(
                            Job(
                                received: .init(envelope, receivedAt: now), done: { link.complete(seq: seq) }, replyTo: caller,
                                origin: link))
                    }
                    stats.withLock { $0.received += jobs.count }
                    if capture.input != nil { capture.received(data) }
                    queue.push(jobs)
                    if peerDrained { break reading }
                }
                // Finish what this peer sent, so its acks go out, then say goodbye.
                guard peerDrained else { return }
                await link.settled()
                link.flush()
                link.reply(.bye(Bye(code: .ok, message: isDraining ? "draining" : "")))
                return
            }
        } catch let error as RunnelError {
            logger.warning("dropped a connection from \(connection.peer): \(error.code.name): \(error.message)")
        } catch {
            logger.warning("dropped a connection from \(connection.peer): \(error)")
        }
    }

    // MARK: Tap

    /// Opens the tap socket, if asked to; a stage that cannot offer a tap still runs.
    private func openTap() {
        guard let prefix = options.tapPath else { return }
        do throws(RunnelError) {
            let point = try TapPoint(path: "\(prefix).\(getpid()).sock")
            tap.withLock { $0 = point }
        } catch {
            logger.warning("no tap: \(error.code.name): \(error.message)")
        }
    }

    // MARK: Statistics

    /// What the runner has done so far, for `runnel status`.
    public var statistics: StageStatistics { stats.withLock { $0 } }

    private func writeStatistics(to path: String) {
        capture.reportStops(to: logger)
        var current = statistics
        current.stage = name
        current.inFlight = queue.count
        current.draining = isDraining
        current.updated = Timestamp.now()
        current.capture = capture.statuses
        guard let data = try? StageStatistics.fileEncoder.encode(current) else { return }
        let temporary = path + ".tmp"
        if FileManager.default.createFile(atPath: temporary, contents: data) { rename(temporary, path) }
    }

    // MARK: Signals

    private func installSignals() -> [any DispatchSourceSignal] {
        [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.beginDrain() }
            source.resume()
            return source
        }
    }
}

/// At most N inputs in flight from a stream, so a slow downstream slows the reading.
final class InFlightLimit: Sendable {
    private struct State {
        var available: Int
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
        let capacity: Int
    }

    private let state: Mutex<State>

    init(_ capacity: Int) {
        state = Mutex(State(available: capacity, capacity: capacity))
    }

    func acquire(_ n: Int) async {
        guard n > 0 else { return }
        await withCheckedContinuation { continuation in
            let now = state.withLock { s -> Bool in
                // A batch larger than the capacity goes through alone.
                if s.available >= min(n, s.capacity) {
                    s.available -= n
                    return true
                }
                s.waiters.append((n, continuation))
                return false
            }
            if now { continuation.resume() }
        }
    }

    func release() {
        let ready = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.available += 1
            var ready: [CheckedContinuation<Void, Never>] = []
            while let (n, waiter) = s.waiters.first, s.available >= min(n, s.capacity) {
                s.available -= n
                s.waiters.removeFirst()
                ready.append(waiter)
            }
            return ready
        }
        for waiter in ready { waiter.resume() }
    }
}

/// The input file, used on one queue at a time.
final class InputBox: @unchecked Sendable {
    let input: FileInput
    init(_ input: FileInput) { self.input = input }
}
