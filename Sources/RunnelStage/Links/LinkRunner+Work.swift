import Logging
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// What a batch's finished inputs have produced and not yet handed to the downstream, with the
/// counts that go into the statistics with them.
///
/// Not nested in the generic runner, for the reason ``LinkJob`` is not.
struct HandOff {
    var outgoing: [Outgoing] = []
    /// The bodies' bytes in ``outgoing``.
    var bytes = 0
    var emitted = 0
    var retried = 0
    var latencies: [Duration] = []
}

/// The worker: takes batches off the queue, runs the stage, ties each output to its input's
/// ticket and hands it to the downstream (made here from `--to`); failures are counted and
/// dead-lettered.
///
/// An input's outputs are handed on as soon as that input is done, not when its whole batch is
/// (``StageProcessor/process(_:deliver:)``): once the outputs held add up to
/// ``handOffThreshold`` bytes they go to the downstream, whose credit and byte bound then
/// hold the stage back. Small outputs still go once per batch, in one send (issue 14).
extension LinkRunner {
    /// Output bytes gathered before they are handed to the downstream within a batch: about one
    /// large page, so a batch of pages is never held whole, and a batch of articles goes in one send.
    static var handOffThreshold: Int { 256 << 10 }

    func work(_ downstream: any Downstream) async {
        let batchSize = processor.configuration.batchSize
        let batchWait = processor.configuration.batchWait
        let tap = parts.withLock { $0.tap }
        while let taken = await queue.take(max: batchSize, gathering: batchWait) {
            var jobs = taken.filter { !($0.origin?.isAbandoned ?? false) }
            if let deadLetterLog, jobs.contains(where: { !$0.isCapturedInput && $0.replyTo == nil }) {
                // Error records made here for lines that could not be read go to the dead-letter
                // log like every other failure (PROTOCOL.md §2.5, §6), not through the stage.
                let unreadable = jobs.filter { !$0.isCapturedInput && $0.replyTo == nil }
                jobs.removeAll { !$0.isCapturedInput && $0.replyTo == nil }
                await deadLetter(unreadable, to: deadLetterLog, tap: tap)
                if jobs.isEmpty { continue }
            }
            if jobs.isEmpty { continue }
            let batch = jobs
            var handOff = HandOff()
            await processor.process(batch.map(\.received)) { index, result in
                let job = batch[index]
                if let tap, tap.isTapped {
                    tap.publish(.inputs, [job.received.envelope])
                    tap.publish(.outputs, result.outputs + result.deadLetters)
                }
                await self.settle(job, result, into: &handOff)
                if handOff.bytes >= Self.handOffThreshold { await self.send(&handOff, to: downstream) }
            }
            await send(&handOff, to: downstream)
        }
    }

    /// Hands what `handOff` holds to the downstream and counts it; empties it.
    private func send(_ handOff: inout HandOff, to downstream: any Downstream) async {
        let held = handOff
        handOff = HandOff()
        // Counted once per hand-off, not under a lock per message.
        if held.emitted > 0 || held.retried > 0 || !held.latencies.isEmpty {
            stats.withLock {
                $0.emitted += held.emitted
                $0.retried += held.retried
                for latency in held.latencies { $0.latency.record(latency) }
            }
        }
        guard !held.outgoing.isEmpty else { return }
        if capture.output != nil { capture.sent(held.outgoing.map(\.envelope)) }
        await downstream.send(held.outgoing)
    }

    /// Ties a finished input's outputs and dead letters to a ticket that acks the input once
    /// they are all safe, and adds them to `handOff`; in call mode sends them back to the caller.
    private func settle(_ job: Job, _ result: ProcessedMessage, into handOff: inout HandOff) async {
        if let caller = job.replyTo {
            // Call mode: outputs and failures go back to the caller; then the input is done.
            let lines = (result.outputs + result.deadLetters).map { message -> WireLine in
                var reply = message
                reply.seq = nil
                return .data(reply)
            }
            if (try? caller.send(lines)) != nil { job.done() }
            return
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
                    handOff.retried += 1
                    logger.warning("\(code.name) on delivery \(redelivery.delivery) of \(result.input.id); handed back to be delivered again in \(delay)")
                    return
                }
            }
            onDone = redelivery.abandon
        }
        let ticket = Ticket(count: count + (deadLetters.isEmpty ? 0 : 1), origin: job.origin, onDone: onDone)
        for message in result.outputs {
            handOff.outgoing.append(Outgoing(envelope: message, ticket: ticket))
            handOff.bytes += message.body.bytes.count
        }
        for message in result.deadLetters {
            self.record(message)
            if deadLetterLog == nil {
                handOff.outgoing.append(Outgoing(envelope: message, ticket: ticket))
                handOff.bytes += message.body.bytes.count
            }
        }
        if !deadLetters.isEmpty, let deadLetterLog {
            do {
                try await deadLetterLog.write(deadLetters)
                ticket.release()
            } catch {
                logger.error("cannot write the dead-letter log (\(error)); the input stays unacked")
            }
        }
        handOff.emitted += result.outputs.count
        handOff.latencies.append(job.received.arrival.duration(to: .now))
        if result.attempts > 1 { handOff.retried += result.attempts - 1 }
    }

    /// Writes the error records of unreadable lines to the dead-letter log; each line is done
    /// once its record is on disk (it stays unacked when the log cannot be written).
    private func deadLetter(_ jobs: [Job], to log: DeadLetterLog, tap: TapPoint?) async {
        let records = jobs.map(\.received.envelope)
        for record in records { self.record(record, retried: false) }
        if let tap, tap.isTapped { tap.publish(.outputs, records) }
        do {
            try await log.write(records)
            for job in jobs { job.done() }
        } catch {
            logger.error("cannot write the dead-letter log (\(error)); \(jobs.count) unreadable lines stay unacked")
        }
    }

    func makeDownstream() throws(RunnelError) -> any Downstream {
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
                capacity: options.outputCapacity, maxBytes: options.outputBytes, maxDeliveries: options.maxDeliveries,
                ackTimeout: options.ackTimeout, logger: logger,
                service: describedService, health: { [weak self] in self?.isDraining == false ? .serving : .notServing },
                deadLetter: { [weak self] message, error, refusedBy in
                    await self?.deadLetterRefused(message, error, refusedBy: refusedBy)
                },
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
    /// - Parameter refusedBy: the stage that refused it (its final nack), which the record names
    ///   (PROTOCOL.md §7.5); `nil`: this stage gave up on it.
    func deadLetterRefused(_ message: Outgoing, _ error: RunnelError, refusedBy: String? = nil) async {
        var failure = processor.errorRecord(error, for: message.envelope)
        if let refusedBy {
            let record = ErrorRecord(
                error: error, stage: refusedBy, attempt: message.envelope.attempt,
                url: StageProcessor<S>.url(of: message.envelope), original: message.envelope)
            failure = message.envelope.derive(type: MessageType.error, body: (try? RawJSON(encoding: record)) ?? .emptyObject)
            failure.deadlineMs = nil
        }
        record(failure, retried: false)
        if let log = deadLetterLog ?? undeliveredLog {
            do {
                try await log.write([failure])
            } catch {
                // As for a record of this stage's own: not on disk, so its input is not acked.
                let name = deadLetterLog != nil ? "dead-letter" : "undelivered"
                logger.error("cannot write the \(name) log (\(error)); the refused message's input stays unacked: \(failure.jsonLine)")
                return
            }
        } else {
            logger.error("no --dead-letter or --undelivered log; the refused message is only reported here: \(failure.jsonLine)")
        }
        message.ticket.release()
    }

    /// Counts and logs a failure; `retried`: the processor tried it (so the line says whether it
    /// gave up), not the next stage (whose refusals the downstream retries and reports).
    func record(_ record: Envelope, retried: Bool = true) {
        guard let body = try? record.body.decode(ErrorRecord.self) else { return }
        stats.withLock { $0.failed[body.code, default: 0] += 1 }
        let subject = body.url.map { " \($0)" } ?? ""
        logger.warning("\(body.status)\(subject): \(body.message)\(retried ? body.outcome : "")")
    }
}
