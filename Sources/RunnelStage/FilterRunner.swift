import Dispatch
import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a stage as a Unix filter: JSON lines (plain or zstd, detected) in, JSON lines out.
///
/// A line that is not a message is offered to ``Stage/adopt(rawLine:)`` first (so `runnel fetch`
/// reads bare URLs); only when the stage declines does it become an error record.
///
/// A pipe has no acks: a message counts as done when its outputs are written. Failures become
/// `error` records that go downstream (or to ``RunnerConfiguration/deadLetterPath``), each also
/// reported on stderr in one line, so nothing vanishes. On SIGTERM or SIGINT it stops reading,
/// finishes and writes the batch in hand, and exits 0; a second signal cuts the batch short
/// (``StopSignal``). Either way the summary names the input line the unprocessed rest begins at.
///
/// ```swift
/// let runner = FilterRunner(stage: ParseStage(), input: try FileInput(path: "-"),
///                           output: FileOutput(descriptor: 1, name: "stdout"))
/// let statistics = try await runner.run()
/// ```
public final class FilterRunner<S: Stage>: Sendable {
    public let processor: StageProcessor<S>
    private let input: Box<FileInput>
    private let output: Box<FileOutput>
    private let deadLetters: Box<FileOutput>?
    /// `--capture-in` / `--capture-out`: inputs as decoded, outputs as written.
    public let capture: StageCapture
    private let io = DispatchQueue(label: "runnel.filter.io")
    private let logger: Logger

    public init(
        stage: S, configuration: RunnerConfiguration = .init(), input: FileInput, output: FileOutput,
        logger: Logger? = nil
    ) throws(RunnelError) {
        let logger = logger ?? Logger(stage: stage.service.name)
        processor = StageProcessor(stage: stage, configuration: configuration) { retry in
            logger.warning("\(retry.description)")
        }
        self.input = Box(input)
        self.output = Box(output)
        self.logger = logger
        if let path = configuration.deadLetterPath {
            deadLetters = Box(try FileOutput(path: path, append: true))
        } else {
            deadLetters = nil
        }
        capture = try StageCapture(configuration)
        for warning in capture.warnings { logger.warning("capture log \(warning.isTornTail ? "repaired" : "damaged"): \(warning)") }
    }

    /// Reads the input to its end (or to a stop signal) and returns what happened.
    /// - Throws: ``RunnelError`` when the output cannot be written (a closed pipe, a full disk).
    public func run() async throws(RunnelError) -> StageStatistics {
        let stop = StopSignal.install(logger: logger)
        // In a task of its own, which a second signal cancels: the batch in hand is cut short.
        let work = Task { () async throws(RunnelError) -> StageStatistics in try await self.run(stop: stop) }
        stop.onUrgent { work.cancel() }
        do {
            return try await work.value
        } catch {
            throw error as? RunnelError ?? RunnelError(.internal, "\(error)")
        }
    }

    private func run(stop: StopSignal) async throws(RunnelError) -> StageStatistics {
        let configuration = processor.configuration
        let name = processor.stage.service.name
        let decoder = StreamDecoder(limits: configuration.limits)
        let encoder = StreamEncoder(format: configuration.zstdOutput ? .zstd(level: configuration.zstdLevel) : .plain)
        let deadLetterEncoder = StreamEncoder(format: .zstd(level: configuration.zstdLevel))
        let progress = FilterProgress.start(logger: logger)
        defer { progress?.stop() }
        SupervisorWatch.start()
        var statistics = StageStatistics()
        var reported = 0
        logger.debug("running as a filter: no acks, batches of \(configuration.batchSize)")

        func report(_ record: Envelope) {
            guard let body = try? record.body.decode(ErrorRecord.self) else { return }
            statistics.failed[body.code, default: 0] += 1
            reported += 1
            if reported <= 1000 {
                // Name the URL unless the message already does (fetch's messages start with it).
                let subject = body.url.map { body.message.contains($0) ? "" : " \($0)" } ?? ""
                logger.warning("\(body.status)\(subject): \(body.message)\(body.outcome)")
            } else if reported == 1001 {
                logger.warning("more failures; further ones are counted, not printed")
            }
        }

        let service = processor.stage.service
        let localHello = Hello(stage: service.name, accepts: service.accepts, emits: service.emits)
        var finished = false
        /// What a stop left of the input read: that many messages, from this input line on.
        var unprocessed: (count: Int, fromLine: Int)?
        /// The first line that was markup (someone ran `runnel parse < page.html`), for a hint at the end.
        var markupLine: Int?
        /// Messages read and not yet handled: what the last round left short of a batch, then
        /// what this round reads.
        var received: [StageProcessor<S>.Received] = []
        /// The input line each of `received` came from, to say where a stopped run can resume.
        var receivedLines: [Int] = []
        while !finished {
            let carried = received.count
            var undecodable: [Envelope] = []
            var refusal: RunnelError?
            var now = ClockReading.now
            /// The bytes of the lines decoded this round.
            var held = 0
            func take(_ event: LineEvent) {
                switch event {
                case let .invalid(error):
                    undecodable.append(processor.errorRecord(error, rawLine: ""))
                case let .line(bytes, number):
                    held += bytes.count
                    do throws(RunnelError) {
                        switch try WireLine(line: bytes) {
                        case let .data(envelope):
                            received.append(.init(envelope, arrival: now))
                            receivedLines.append(number)
                        case let .control(.hello(writer)):
                            // A stream may begin with its writer's hello: checked as on a link.
                            do throws(RunnelError) { try Handshake.checkStreamHello(writer, reader: localHello) } catch {
                                refusal = refusal ?? error.at(.line(number))
                            }
                        case .control: break  // no link to manage on a pipe
                        }
                    } catch {
                        // Not a message: the stage may still take it as one (bare URLs for fetch).
                        if let adopted = processor.stage.adopt(rawLine: String(decoding: bytes, as: UTF8.self)) {
                            received.append(.init(adopted, arrival: now))
                            receivedLines.append(number)
                            return
                        }
                        let raw = String(decoding: bytes.prefix(4096), as: UTF8.self)
                        undecodable.append(processor.errorRecord(processor.stage.unreadable(raw, error, line: number), rawLine: raw))
                        if markupLine == nil, bytes.first(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) == UInt8(ascii: "<") {
                            markupLine = number
                        }
                    }
                }
            }
            // Read a chunk (off the cooperative pool: read(2) blocks) and decode its lines; go on
            // reading while more input is there to be read at once (the rest of a file, or a pipe
            // that is backed up) and fewer messages than a batch have come, so that a batch is as
            // large as it was asked to be (a store commits once a batch) without waiting for input
            // that is not there yet.
            // Then the full batches are handled, and the rest waits for the next round's reads
            // unless the input has ended (or a batch's worth of bytes did not make a batch).
            var more = false
            repeat {
                stop.setReading(true)
                let chunk = await readChunk()
                stop.setReading(false)
                now = ClockReading.now
                if case .bytes = chunk { more = input.value.hasBytesWaiting }
                // A chunk decodes into a bounded amount (a compression bomb ends the input with a
                // RESOURCE_EXHAUSTED record, not the process).
                var budget = DecodeBudget(limits: decoder.limits)
                do {
                    switch chunk {
                    case let .bytes(bytes):
                        try decoder.feed(bytes) { event in
                            try budget.charge(event)
                            take(event)
                        }
                    case .end:
                        finished = true
                        try decoder.finish { take($0) }
                    case let .failure(error):
                        finished = true
                        throw error
                    }
                } catch {
                    let error = error as? RunnelError ?? RunnelError(.internal, "\(error)")
                    undecodable.append(processor.errorRecord(error, rawLine: ""))
                    finished = true
                }
            } while !finished && more && refusal == nil && received.count < configuration.batchSize
                && held < Self.gatherLimit && !stop.isRequested
            if let refusal { throw refusal }  // the stream is not for this stage: nothing of it is taken

            var sent: [Envelope] = []
            for record in undecodable {
                report(record)
                append(record, deadLetter: true, encoder, deadLetterEncoder)
                if capture.output != nil && deadLetters == nil { sent.append(record) }
            }
            if capture.input != nil { capture.received(received[carried...].map(\.envelope)) }
            let keepsTail = !finished && more && received.count >= configuration.batchSize
            var start = 0
            while start < received.count {
                if keepsTail && received.count - start < configuration.batchSize { break }
                // A chunk can hold thousands of messages (a file of URLs): a stop waits for the
                // batch in hand only, and says where the rest of the input begins.
                if stop.isRequested {
                    unprocessed = (count: received.count - start, fromLine: receivedLines[start])
                    break
                }
                let batch = Array(received[start..<min(start + configuration.batchSize, received.count)])
                start += batch.count
                statistics.received += batch.count
                // Each result is written as soon as those before it are (input order, so a
                // pipe's output is the same from run to run), and the encoder is emptied once it
                // holds ``writeThreshold`` bytes: a batch of large pages never sits in memory
                // whole (issue 14).
                var order = InputOrder<StageProcessor<S>.Processed>(count: batch.count)
                var failure: RunnelError?
                // Where a second signal cut the batch short: from the first result not yet
                // written when it came, nothing of the batch is written.
                var written = 0
                var cut: Int?
                await processor.process(batch) { index, processed in
                    order.put(processed, at: index)
                    while let result = order.next() {
                        if cut != nil || Task.isCancelled {
                            cut = cut ?? written
                            continue
                        }
                        written += 1
                        if result.attempts > 1 { statistics.retried += result.attempts - 1 }
                        for message in result.outputs {
                            if message.type == MessageType.error && result.input.id == message.id
                                && result.input.type == MessageType.error
                            {
                                statistics.passedThrough += 1
                            } else {
                                statistics.emitted += 1
                            }
                            encoder.append(message)
                            if capture.output != nil { sent.append(message) }
                        }
                        for record in result.deadLetters {
                            report(record)
                            append(record, deadLetter: true, encoder, deadLetterEncoder)
                            if capture.output != nil && deadLetters == nil { sent.append(record) }
                        }
                        // Checked after each result, not after all those one input released:
                        // a slow input can release dozens of pages at once.
                        guard failure == nil, encoder.pendingCount + deadLetterEncoder.pendingCount >= Self.writeThreshold
                        else { continue }
                        if !sent.isEmpty {
                            capture.sent(sent)
                            sent.removeAll()
                        }
                        do throws(RunnelError) { try await write(encoder, deadLetterEncoder) } catch { failure = error }
                    }
                }
                if let failure { throw failure }
                if !sent.isEmpty {
                    capture.sent(sent)
                    sent.removeAll()
                }
                try await write(encoder, deadLetterEncoder)
                if let cut {
                    let first = start - batch.count + cut
                    statistics.received -= batch.count - cut
                    unprocessed = (count: received.count - first, fromLine: receivedLines[first])
                    break
                }
                progress?.update(received: statistics.received, emitted: statistics.emitted)
            }
            if !sent.isEmpty { capture.sent(sent) }
            try await write(encoder, deadLetterEncoder)
            if capture.isActive { capture.reportStops(to: logger) }
            if stop.isRequested || unprocessed != nil {
                // A tail kept for the next round is input not handled, like the rest of a cut batch.
                if unprocessed == nil, start < received.count {
                    unprocessed = (count: received.count - start, fromLine: receivedLines[start])
                }
                break
            }
            received.removeFirst(start)
            receivedLines.removeFirst(start)
        }
        if configuration.zstdOutput || deadLetters != nil {
            try await write(encoder, deadLetterEncoder, final: true)
        }
        progress?.stop()
        await processor.stage.finish()
        await capture.close()
        capture.reportStops(to: logger)
        if configuration.verbose || statistics.failedTotal > 0 || stop.isRequested || progress?.hasTold == true {
            var line = statistics.summary(stage: name)
            if line.hasPrefix(name + ": ") { line.removeFirst(name.count + 2) }
            if let unprocessed {
                let messages = unprocessed.count == 1 ? "1 message read was" : "\(unprocessed.count) messages read were"
                line += " (stopped by signal; \(messages) not processed: the input from line \(unprocessed.fromLine) on)"
            } else if stop.isRequested {
                line += " (stopped by signal)"
            }
            logger.info("\(line)")
        }
        if let markupLine {
            // Said last, under the warnings of every line: what to run instead.
            let fetch = "echo file://$PWD/page.html | runnel fetch --allow-files ." + (name == "fetch" ? "" : " | runnel \(name)")
            logger.warning("line \(markupLine) is markup, not a JSON line: a stage reads messages, one JSON object a line; an HTML file goes in through fetch: \(fetch)")
        }
        return statistics
    }

    /// Bytes of input lines read for a batch before no more chunks are read for it (a batch of
    /// large pages stops short of its count): with one chunk's lines, about the most a batch
    /// holds in memory as input.
    static var gatherLimit: Int { 8 << 20 }

    /// Encoded bytes held before they are written within a batch: about one large page. Small
    /// messages (a batch of articles) are still written once per batch, as one write.
    static var writeThreshold: Int { 256 << 10 }

    private func append(_ record: Envelope, deadLetter: Bool, _ main: StreamEncoder, _ dead: StreamEncoder) {
        if deadLetters != nil { dead.append(record) } else { main.append(record) }
    }

    // MARK: Blocking I/O on a private queue

    private enum Chunk: Sendable {
        case bytes([UInt8])
        case end
        case failure(RunnelError)
    }

    private func readChunk() async -> Chunk {
        await withCheckedContinuation { continuation in
            io.async { [input] in
                do throws(RunnelError) {
                    let bytes = try input.value.readChunk()
                    continuation.resume(returning: bytes.map(Chunk.bytes) ?? .end)
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
    }

    private func write(_ main: StreamEncoder, _ dead: StreamEncoder, final: Bool = false) async throws(RunnelError) {
        let bytes = try final ? main.finish() : main.flush()
        let deadBytes = dead.pendingCount > 0 || final ? try dead.flush(endFrame: true) : []
        guard !bytes.isEmpty || !deadBytes.isEmpty else { return }
        let failure: RunnelError? = await withCheckedContinuation { continuation in
            io.async { [output, deadLetters] in
                do {
                    if !deadBytes.isEmpty, let deadLetters {
                        try deadLetters.value.write(deadBytes)
                        try deadLetters.value.sync()
                    }
                    try output.value.write(bytes)
                    try output.value.flush()
                    continuation.resume(returning: nil)
                } catch {
                    continuation.resume(returning: error as? RunnelError ?? RunnelError(.internal, "\(error)"))
                }
            }
        }
        if let failure { throw failure }
        main.recycle(bytes)
    }

}

/// A non-Sendable value handed to one serial queue at a time.
final class Box<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
