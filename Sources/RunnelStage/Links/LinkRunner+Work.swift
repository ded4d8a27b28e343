import Logging
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// The worker: takes batches off the queue, runs the stage, ties each output to its input's
/// ticket and hands it to the downstream (made here from `--to`); failures are counted and
/// dead-lettered.
extension LinkRunner {
    func work(_ downstream: any Downstream) async {
        let batchSize = processor.configuration.batchSize
        let tap = parts.withLock { $0.tap }
        while let taken = await queue.take(max: batchSize) {
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
            let results = await processor.process(jobs.map(\.received))
            if let tap, tap.isTapped {
                tap.publish(.inputs, jobs.map(\.received.envelope))
                tap.publish(.outputs, results.flatMap { $0.outputs + $0.deadLetters })
            }
            var outgoing: [Outgoing] = []
            outgoing.reserveCapacity(results.count)
            // Counted once per batch, not under a lock per message.
            let finished = ContinuousClock.now
            var emitted = 0
            var retried = 0
            var latencies: [Duration] = []
            latencies.reserveCapacity(results.count)
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
                emitted += result.outputs.count
                latencies.append(job.received.receivedAt.duration(to: finished))
                if result.attempts > 1 { retried += result.attempts - 1 }
            }
            stats.withLock {
                $0.emitted += emitted
                $0.retried += retried
                for latency in latencies { $0.latency.record(latency) }
            }
            if capture.output != nil { capture.sent(outgoing.map(\.envelope)) }
            await downstream.send(outgoing)
        }
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
                capacity: options.outputCapacity, maxDeliveries: options.maxDeliveries,
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
        if let deadLetterLog {
            try? await deadLetterLog.write([failure])
        } else {
            logger.error("no --dead-letter log; the refused message is only reported here: \(failure.jsonLine)")
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
