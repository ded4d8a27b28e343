import Foundation
import Logging
import RunnelProtocol
import RunnelTransport

/// Input from a socket: upstream links accepted, handshaken, granted credit and acked; drained
/// one by one on SIGTERM or when the peer asks (PROTOCOL.md §7.7).
extension LinkRunner {
    func serve() async throws(RunnelError) {
        let bound = try await LinkListener.bind(options.listen, tls: options.tls)
        parts.withLock { $0.listener = bound }
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

    func handle(_ connection: LineConnection) async {
        // Past --max-connections a peer is told why and closed before anything else.
        let admitted = parts.withLock { p -> Bool in
            guard p.connections < options.maxConnections else { return false }
            p.connections += 1
            return true
        }
        guard admitted else { return await refuse(connection) }
        defer { parts.withLock { $0.connections -= 1 } }
        let service = processor.stage.service
        let hello = Hello(stage: service.name, accepts: service.accepts, emits: service.emits)
        let handshake = Handshake(local: hello, key: options.key)
        var cutOff: LineWriter?
        do {
            try await connection.run(limits: processor.configuration.limits, maxUnread: options.maxUnread) { reader, writer in
                cutOff = writer
                // A peer that connects and says nothing is told why and cut off.
                let timeout = options.handshakeTimeout
                let deadline = Task {
                    try await Task.sleep(for: timeout)
                    let error = RunnelError(
                        .deadlineExceeded, "no hello within \(TimeSpan(timeout)) (--handshake-timeout); closing the connection")
                    await self.sayBye(error, writer, connection)
                }
                let peer: Hello
                do {
                    peer = try await handshake.accept(&reader, writer)  // a refusal is told with bye there
                    deadline.cancel()
                } catch {
                    deadline.cancel()
                    throw error
                }
                logger.debug("\(peer.stage) connected from \(connection.peer)")
                let link = InboundLink(writer: writer, window: options.windowInForce, windowBytes: options.windowBytes, peer: peer.stage)
                do throws(RunnelError) {
                    try await serve(link, peer, &reader, writer, connection)
                } catch {
                    // Whatever ends the link early is told to the peer (PROTOCOL.md §7.9): a
                    // stream that breaks (DATA_LOSS), credit overrun (RESOURCE_EXHAUSTED).
                    try? writer.send(.bye(Bye(code: error.code, message: error.message)))
                    throw error
                }
            }
        } catch let error as RunnelError {
            let reason = cutOff?.cutOff ?? error
            logger.warning("dropped a connection from \(connection.peer): \(reason.code.name): \(reason.message)")
        } catch {
            logger.warning("dropped a connection from \(connection.peer): \(error)")
        }
    }

    /// Serves one open upstream link: grants credit, takes its data to the work queue, answers
    /// its control lines, pings it when silent and closes it when dead (PROTOCOL.md §7.6).
    private func serve(
        _ link: InboundLink, _ peer: Hello, _ reader: inout LineReader, _ writer: LineWriter, _ connection: LineConnection
    ) async throws(RunnelError) {
        let service = processor.stage.service
        let described = describedService
        let checksEnvelopes = !service.accepts.contains("*")
        let caller = peer.mode == "call" ? writer : nil
        // Duplicates are dropped on a plain link only: a caller wants an answer each time, and a
        // replay sends logged ids again on purpose (PROTOCOL.md §7.10, §8.5).
        let dropsDuplicates = caller == nil && peer.mode != "replay" && options.recentIDs > 0
        try link.open()
        let key = ObjectIdentifier(link)
        parts.withLock { $0.links[key] = (link, connection) }
        defer { parts.withLock { _ = $0.links.removeValue(forKey: key) } }
        defer { _ = link.peerEnded.raise() }
        if isDraining { Task { await self.drain(link, connection) } }
        let idle = Task { await self.watchIdle(link, writer, connection) }
        defer { idle.cancel() }
        var peerDrained = false
        // A link that breaks (or ends without a drain) leaves its unacked messages to be
        // sent again: what is still pending for them here is dropped, not done twice.
        defer { if !peerDrained { linkBroke(link) } }
        reading: while let inputs = try await reader.nextBatch() {
            link.heardFromPeer()
            var jobs: [Job] = []
            var data: [Envelope] = []
            jobs.reserveCapacity(inputs.count)
            data.reserveCapacity(inputs.count)
            for input in inputs {
                switch input {
                case let .refused(error, raw):
                    // Skipped and dead-lettered; the link stays open (PROTOCOL.md §7.9). A data
                    // line whose seq can still be read counts as received, and is acked once
                    // its error record is written.
                    let unreadable = RefusedLine.read(raw)
                    if unreadable.isControl {
                        // A bad control line is only logged (§7.9): it is no message to lose.
                        logger.warning("\(peer.stage) sent a control line that cannot be read: \(error.code.name): \(error.message)")
                        continue
                    }
                    let record = processor.errorRecord(error, rawLine: raw)
                    if let seq = unreadable.seq, let fresh = try link.receive([(seq, 0)]).first {
                        if fresh { jobs.append(errorJob(record, done: { link.complete(seq: seq) }, replyTo: caller)) }
                    } else {
                        jobs.append(errorJob(record, done: {}, replyTo: caller))
                    }
                case let .line(.data(envelope)):
                    if envelope.seq == nil || envelope.seq == 0 {
                        // Refused and dead-lettered; its credit is not known to be used (§7.4).
                        let error = RunnelError(
                            .invalidArgument, "a data message on a link needs \"seq\", 1 or more (id \(envelope.id))")
                        jobs.append(errorJob(processor.errorRecord(error, for: envelope), done: {}, replyTo: caller))
                    } else {
                        data.append(envelope)
                    }
                case let .line(.control(control)):
                    switch control {
                    case let .ping(id): link.reply(.pong(id: id))
                    case .health(nil): link.reply(.health(isDraining ? .notServing : .serving))
                    case .describe(nil): link.reply(.describe(described))
                    case .drain: peerDrained = true
                    case let .bye(bye):
                        // The peer ends the link; it sends nothing more (PROTOCOL.md §7.7).
                        // (CANCELLED: the peer stopped before its link was up, an ordinary stop.)
                        if bye.code != .ok && bye.code != .cancelled {
                            logger.info("\(peer.stage) closed the link: \(bye.code.name): \(bye.message)")
                        }
                    default: break
                    }
                }
            }
            let now = ClockReading.now
            let arrivals = try link.receive(data.map { ($0.seq!, $0.body.bytes.count) })
            for (envelope, fresh) in zip(data, arrivals) where fresh {
                let seq = envelope.seq!
                if checksEnvelopes, let problem = Self.envelopeProblem(envelope) {
                    // Step 5 of PROTOCOL.md §3, for a stage that works on messages (a relay
                    // passes them on and need not): refused and dead-lettered, then acked.
                    let record = processor.errorRecord(problem, for: envelope)
                    jobs.append(errorJob(record, done: { link.complete(seq: seq) }, replyTo: caller))
                    continue
                }
                guard dropsDuplicates else {
                    jobs.append(
                        Job(
                            received: .init(envelope, arrival: now), done: { link.complete(seq: seq) }, replyTo: caller,
                            origin: link))
                    continue
                }
                let id = RecentID(envelope.id)  // hashed once, for arrive and finish
                let job = Job(
                    received: .init(envelope, arrival: now), done: { self.finished(id); link.complete(seq: seq) },
                    origin: link)
                switch duplicates.withLock({ $0.arrive(id, from: key, holding: job) }) {
                case .process:
                    jobs.append(job)
                case .finished:
                    logger.debug("\(peer.stage) sent \(id.id) again (seq \(seq)); it was finished: acked, not processed again")
                    link.complete(seq: seq)
                case .held:
                    logger.debug("\(peer.stage) sent \(id.id) again (seq \(seq)) while a copy is in progress: done when that one is")
                }
            }
            stats.withLock { $0.received += jobs.count }
            if capture.input != nil { capture.received(data) }
            queue.push(jobs)
            if peerDrained { break reading }
        }
        // Finish what this peer sent, so its acks go out, then say goodbye. The peer waits for
        // them and need not be heard from meanwhile: its silence is no longer idleness.
        guard peerDrained else { return }
        idle.cancel()
        await link.settled()
        link.flush()
        // The bye goes with the end of this side's stream, in one write; then the peer's stream
        // is read to its end, which the peer writes after the bye (PROTOCOL.md §7.7). Closing
        // before would leave its last bytes unread, and a socket closed so is reset under the
        // peer, whose last writes fail. A peer that neither reads nor ends is cut off.
        let giveUp = Task {
            try await Task.sleep(for: Self.byeFlushTimeout * 2)
            connection.close()
        }
        await link.finishWriting(saying: .bye(Bye(code: .ok, message: isDraining ? "draining" : "")))
        while (try? await reader.next()) != nil {}
        giveUp.cancel()
    }

    /// An input whose id is remembered as a duplicate filter's is done: copies of it held behind
    /// it are done too (acked, not processed).
    func finished(_ id: RecentID) {
        for copy in duplicates.withLock({ $0.finish(id) }) { copy.done() }
    }

    /// The link broke (or is given up on): what it sent and was not acked will come again, so
    /// its pending work is dropped, and copies of its messages held from other links are
    /// processed in their place (PROTOCOL.md §7.7, §8.5).
    func linkBroke(_ link: InboundLink) {
        link.abandon()
        let promoted = duplicates.withLock { $0.linkBroke(ObjectIdentifier(link)) }
        if !promoted.isEmpty { queue.push(promoted) }
    }

    /// Pings a silent peer and closes the link when it answers nothing for --idle-timeout.
    private func watchIdle(_ link: InboundLink, _ writer: LineWriter, _ connection: LineConnection) async {
        var timer = IdleTimer(timeout: options.idleTimeout)
        while !Task.isCancelled {
            switch timer.check(now: .now, lastHeard: link.lastHeard) {
            case let .wait(until):
                do { try await Task.sleep(until: until) } catch { return }
            case let .ping(id):
                link.reply(.ping(id: id))
            case .close:
                let error = RunnelError(
                    .deadlineExceeded,
                    "\(link.peer) sent nothing, not even a pong, for \(TimeSpan(options.idleTimeout)) (--idle-timeout); closing the link")
                logger.warning("\(error.code.name): \(error.message)")
                await sayBye(error, writer, connection)
                return
            }
        }
    }

    /// Tells the peer why with `bye`, and closes the connection: at once if the `bye` cannot
    /// reach it (a peer that does not read).
    func sayBye(_ error: RunnelError, _ writer: LineWriter, _ connection: LineConnection) async {
        try? writer.send(.bye(Bye(code: error.code, message: error.message)))
        let cutOff = Task {
            try await Task.sleep(for: Self.byeFlushTimeout)
            connection.close()
        }
        await writer.finishAndFlush()
        cutOff.cancel()
        connection.close()
    }

    /// A connection past --max-connections: `bye` `RESOURCE_EXHAUSTED` as its only line.
    private func refuse(_ connection: LineConnection) async {
        let error = RunnelError(
            .resourceExhausted,
            "\(name) serves at most \(options.maxConnections) connections at once (--max-connections); try again later")
        logger.warning("refused a connection from \(connection.peer): \(error.code.name): \(error.message)")
        try? await connection.run { _, writer in
            await sayBye(error, writer, connection)
        }
    }

    /// What `describe` answers on a link: the stage's service definition, then the link's
    /// settings in force (`--window`, `--window-bytes`, `--handshake-timeout`, `--idle-timeout`, `--max-connections`,
    /// `--max-unread`), each with the value used as its `default`.
    var describedService: ServiceDefinition {
        var service = processor.stage.service
        guard options.listen.isSocket else { return service }
        service.options += [
            .init(name: "window", type: "integer", default: "\(options.windowInForce)", help: "Credit granted to each upstream connection."),
            .init(
                name: "window-bytes", type: "string", default: "\(ByteSize(bytes: options.windowBytes))",
                help: "Bytes in flight per upstream connection that credit is granted for, at the messages' average size."),
            .init(
                name: "handshake-timeout", type: "string", default: "\(TimeSpan(options.handshakeTimeout))",
                help: "A connecting peer that has not said hello by then is told bye DEADLINE_EXCEEDED."),
            .init(
                name: "idle-timeout", type: "string", default: "\(TimeSpan(options.idleTimeout))",
                help: "An upstream peer silent this long, pings unanswered, is told bye DEADLINE_EXCEEDED."),
            .init(
                name: "max-connections", type: "integer", default: "\(options.maxConnections)",
                help: "Connections served at once; one more is told bye RESOURCE_EXHAUSTED."),
            .init(
                name: "max-unread", type: "string", default: "\(ByteSize(bytes: options.maxUnread))",
                help: "Bytes kept for a peer that does not read them; past it the connection is closed."),
            .init(
                name: "recent-ids", type: "integer", default: "\(options.recentIDs)",
                help: "Ids of finished messages remembered; a copy sent again is acked, not processed (0: off)."),
        ]
        return service
    }

    /// What step 5 of PROTOCOL.md §3 finds wrong with an envelope: `attempt` below 1, a `ts`
    /// that is not RFC 3339.
    static func envelopeProblem(_ envelope: Envelope) -> RunnelError? {
        if envelope.attempt < 1 {
            return RunnelError(.invalidArgument, "field \"attempt\": must be 1 or more (id \(envelope.id))")
        }
        if let ts = envelope.ts, Timestamp.parse(ts) == nil {
            return RunnelError(.invalidArgument, "field \"ts\": not an RFC 3339 timestamp: \(ts) (id \(envelope.id))")
        }
        return nil
    }

    /// Stops granting credit to one upstream, finishes and acks what it sent, says `bye` and
    /// closes; the sender keeps the rest for another receiver (PROTOCOL.md §7.7).
    func drain(_ link: InboundLink, _ connection: LineConnection) async {
        link.stopGranting()
        await link.settled()
        link.flush()
        // The bye and the end of this side's stream go in one write, and reach the peer before
        // the close; a peer that does not read is cut off.
        let cutOff = Task {
            try await Task.sleep(for: Self.byeFlushTimeout)
            connection.close()
        }
        await link.finishWriting(saying: .bye(Bye(code: .unavailable, message: "\(name) is draining")))
        cutOff.cancel()
        // The peer answers the bye by ending its own stream. Closing first would cut its zstd
        // frame short, which the reading side here takes for DATA_LOSS and logs as a dropped
        // connection, on every ordinary stop. It gets as long again to do so.
        let giveUp = Task {
            try await Task.sleep(for: Self.byeFlushTimeout)
            connection.close()
        }
        link.peerEnded.onRaise {
            giveUp.cancel()
            connection.close()
        }
    }

    /// The longest a draining link waits for its `bye` to reach the socket before it closes,
    /// and then for the peer to end its side.
    static var byeFlushTimeout: Duration { .seconds(1) }
}

/// What can still be read of a line that was refused: whether it is a control line (it has
/// `ctl`, whatever its value), and the `seq` of a data line when that is a whole number from 1 to
/// 2^63 − 1 (anything else there is no seq).
struct RefusedLine: Decodable {
    var isControl: Bool
    var seq: UInt64?

    /// The line read as far as it can be; not JSON, or not an object: a data line without a seq.
    static func read(_ raw: String) -> (isControl: Bool, seq: UInt64?) {
        guard let line = try? JSONDecoder().decode(RefusedLine.self, from: Data(raw.utf8)) else { return (false, nil) }
        return line.isControl ? (true, nil) : (false, line.seq)
    }

    private enum Key: String, CodingKey { case ctl, seq }

    init(from decoder: any Decoder) throws {
        let members = try decoder.container(keyedBy: Key.self)
        isControl = members.contains(.ctl)
        if let whole = (try? members.decodeIfPresent(UInt64.self, forKey: .seq)) ?? nil {
            seq = (1...UInt64(Int64.max)).contains(whole) ? whole : nil
        } else if let real = (try? members.decodeIfPresent(Double.self, forKey: .seq)) ?? nil,
            real >= 1, real < 0x1p63, real.rounded(.towardZero) == real
        {
            seq = UInt64(real)  // 12.0: a whole number written with a fraction
        } else {
            seq = nil
        }
    }
}
