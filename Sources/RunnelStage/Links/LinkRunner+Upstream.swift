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
                parts.withLock { $0.links[key] = (link, connection) }
                defer { parts.withLock { _ = $0.links.removeValue(forKey: key) } }
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


    /// Stops granting credit to one upstream, finishes and acks what it sent, says `bye` and
    /// closes; the sender keeps the rest for another receiver (PROTOCOL.md §7.7).
    func drain(_ link: InboundLink, _ connection: LineConnection) async {
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
}
