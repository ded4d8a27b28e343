import Dispatch
import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization

/// Input from a stream (stdin or a log): read in chunks off the task pool, each line a job,
/// at most `outputCapacity` lines in flight; a cursor keeps how many lines are done.
extension LinkRunner {
    func readStream(_ endpoint: Endpoint, cursor: InputCursor?) async throws(RunnelError) {
        let input: FileInput
        switch endpoint {
        case let .file(path): input = try FileInput(path: path)
        default: input = try FileInput(path: "-")
        }
        let box = InputBox(input)
        var decoder = StreamDecoder(limits: processor.configuration.limits)
        let limit = InFlightLimit(options.outputCapacity)
        // A drain ends a wait for room: the messages of a stuck next stage, dropped by the drain,
        // never give theirs back, and the reader would wait for ever (it pushes into the closed
        // queue instead, and what that drops is counted as unsent).
        draining.onRaise { limit.cancel() }
        let skip = cursor?.start ?? 0
        if skip > 0 { logger.info("resuming after line \(skip) (cursor \(cursor!.path))") }
        /// Called when the input line `index` (0-based), a job, is done end to end.
        func lineDone(_ index: Int) -> @Sendable () -> Void {
            { limit.release(); cursor?.complete(index) }
        }
        /// A line that is no job (a comment, a hello, a control line): done at once, and it took
        /// no room in flight.
        func skipped(_ index: Int) { cursor?.complete(index) }
        let service = processor.stage.service
        let localHello = Hello(stage: service.name, accepts: service.accepts, emits: service.emits)
        let io = DispatchQueue(label: "runnel.link.input")
        // --follow: at the end of the file, wait for more lines instead of ending (a URL list
        // that someone appends to). Watched before the first read, so no append is missed.
        var watch: FileWatch?
        if options.follow, case let .file(path) = endpoint {
            let made = try FileWatch(path: path, for: .writes)
            draining.onRaise { made.cancel() }
            watch = made
        }
        var track = FollowTrack()
        var finished = false
        while !finished && !isDraining {
            // A chunk, nil at the end, or why the input cannot be read (EIO, a directory).
            let read: Result<[UInt8]?, RunnelError> = await withCheckedContinuation { continuation in
                io.async {
                    continuation.resume(returning: Result { () throws(RunnelError) in try box.input.readChunk() })
                }
            }
            var jobs: [Job] = []
            var refusal: RunnelError?
            let now = ClockReading.now
            func take(_ event: LineEvent) {
                switch event {
                case let .invalid(error):
                    // An over-long line names its number (the decoder has counted it when its
                    // newline was in the same chunk, not yet when it was cut short before one).
                    let index = error.position?.line.map { $0 - 1 } ?? decoder.lineNumber
                    guard index >= skip else { return }
                    jobs.append(errorJob(processor.errorRecord(error, rawLine: ""), done: lineDone(index)))
                case let .line(bytes, number):
                    let index = number - 1
                    guard index >= skip else { return }
                    if let first = bytes.first(where: { $0 != 0x20 && $0 != 0x09 }), first == UInt8(ascii: "#") {
                        skipped(index)  // a comment in a URL list
                        return
                    }
                    do throws(RunnelError) {
                        switch try WireLine(line: bytes) {
                        case let .data(envelope):
                            jobs.append(Job(received: .init(envelope, arrival: now), done: lineDone(index)))
                        case let .control(.hello(writer)):
                            // A stream may begin with its writer's hello: checked as on a link.
                            do throws(RunnelError) { try Handshake.checkStreamHello(writer, reader: localHello) } catch {
                                refusal = refusal ?? error.at(.line(number))
                            }
                            skipped(index)
                        case .control:
                            skipped(index)
                        }
                    } catch {
                        // A line that is not a message may still be one for this stage (fetch: a bare URL).
                        if let adopted = processor.stage.adopt(rawLine: String(decoding: bytes, as: UTF8.self)) {
                            jobs.append(Job(received: .init(adopted, arrival: now), done: lineDone(index)))
                            return
                        }
                        let raw = String(decoding: bytes.prefix(4096), as: UTF8.self)
                        jobs.append(errorJob(processor.errorRecord(processor.stage.unreadable(raw, error, line: number), rawLine: raw), done: lineDone(index)))
                    }
                }
            }
            do {
                switch read {
                case let .success(chunk?):
                    if watch != nil { track.read(chunk) }
                    // A chunk decodes into a bounded amount: a compression bomb ends the input with
                    // a RESOURCE_EXHAUSTED record, not the process.
                    var budget = DecodeBudget(limits: decoder.limits)
                    try decoder.feed(chunk) { event in
                        try budget.charge(event)
                        take(event)
                    }
                case .success(nil):
                    guard let watch, case let .file(path) = endpoint else {
                        finished = true
                        try decoder.finish { take($0) }
                        break
                    }
                    // Following: a line still without its newline stays in the decoder until it
                    // has one, unless the file is replaced under its name, cut or rewritten. The
                    // file is looked at again after every change, before anything more is read.
                    var look = try followed(box, path: path, cursor: cursor, track: &track, watch: watch, woken: false)
                    while look == .same || look == .cut {
                        // A file cut shorter is looked at again once its writer has been quiet for
                        // half a second, whether it was written again or not.
                        let change = look == .cut ? await watch.changed(within: .milliseconds(500)) : await watch.changed().map { _ in true }
                        guard let changed = change else {
                            look = .end
                            break
                        }
                        look = try followed(box, path: path, cursor: cursor, track: &track, watch: watch, woken: changed)
                    }
                    switch look {
                    case .same, .cut, .grown:
                        break  // read on
                    case .anew:
                        try decoder.finish { take($0) }  // the old file's last line, whole or not
                        decoder = StreamDecoder(limits: processor.configuration.limits)
                    case .continued:
                        break  // read on in the new file, from where the old one was left
                    case .gone:
                        _ = await watch.changed()  // for a file of that name to arrive
                    case .end:
                        finished = true
                        try decoder.finish { take($0) }
                    }
                case let .failure(error):
                    // The stream ends here, with the error passed on as a record downstream.
                    logger.error("\(error.code.name): \(error.message)")
                    finished = true
                    throw error
                }
            } catch {
                let error = error as? RunnelError ?? RunnelError(.internal, "\(error)")
                jobs.append(errorJob(processor.errorRecord(error, rawLine: ""), done: { limit.release() }))
                finished = true
            }
            if let refusal { throw refusal }  // the stream is not for this stage: nothing of it is taken
            stats.withLock { $0.received += jobs.count }
            if capture.input != nil { capture.received(jobs.compactMap { $0.isCapturedInput ? $0.received.envelope : nil }) }
            await limit.acquire(jobs.count)
            // A drain may have closed the queue meanwhile: what it drops is read and not sent.
            let dropped = queue.push(jobs)
            if dropped > 0 { parts.withLock { $0.unsent += dropped } }
            if !jobs.isEmpty { logger.debug("read \(jobs.count) messages from \(endpoint)") }
        }
    }
}


/// What a followed file's reader does at its end (``LinkRunner/followed(_:path:cursor:track:watch:woken:)``).
enum FollowedFile {
    /// Nothing new: wait for a change.
    case same
    /// Lines were added: read on.
    case grown
    /// Cut shorter than what was read: wait for it to be written again (an editor saving in place).
    case cut
    /// Read on: the file under the name (a new one, or this one written again) begins with all
    /// that was read.
    case continued
    /// Read the new file under the name (or the file again) from its start.
    case anew
    /// Wait for a file of that name to arrive.
    case gone
    /// Stop reading.
    case end
}

/// What the reader of a followed file keeps to tell lines added from a file written anew: the
/// last bytes it read, and when it saw the file cut.
struct FollowTrack {
    /// The last (at most 4 KiB) bytes read, which a file only added to still holds where they were.
    private(set) var tail: [UInt8] = []
    /// When the file was seen cut shorter than what was read.
    var cut: ContinuousClock.Instant?

    static let tailSize = 4096

    mutating func read(_ chunk: [UInt8]) {
        if chunk.count >= Self.tailSize {
            tail = Array(chunk.suffix(Self.tailSize))
        } else {
            tail.append(contentsOf: chunk)
            if tail.count > Self.tailSize { tail.removeFirst(tail.count - Self.tailSize) }
        }
    }

    /// Whether `input` still holds the bytes last read where they were read, ending at `offset`.
    func holds(_ input: FileInput, endingAt offset: Int) -> Bool {
        input.bytes(at: offset - tail.count, count: tail.count) == tail
    }

    mutating func restart() {
        tail = []
        cut = nil
    }
}

extension LinkRunner {
    /// Looks at a followed file at its end, and again after each change, before reading on. It
    /// follows the name as `tail -F` does, and tells lines added from a file written anew:
    ///
    /// - A file under the name that begins with all that was read (an editor saving the list with
    ///   lines added, as a new file renamed over it or in its place) is read on from there: its
    ///   lines keep their numbers, and a `--cursor` its count. A file cut shorter is given until
    ///   its writer has been quiet for half a second (two seconds at most) to be written again.
    /// - Any other file (a log rotated, a list rewritten, `copytruncate`) is read from its start;
    ///   lines written to the old file after this are not read. A `--cursor` counts the lines of
    ///   one file, so there the reading ends instead, saying what to do.
    ///
    /// - Parameter woken: whether the file changed since the last look (false at its end, and
    ///   when a cut file's writer has been quiet).
    func followed(
        _ box: InputBox, path: String, cursor: InputCursor?, track: inout FollowTrack, watch: FileWatch, woken: Bool
    ) throws(RunnelError) -> FollowedFile {
        // A named pipe has no offsets to compare: whatever woke the reader is read.
        guard box.input.isRegularFile else { return woken ? .grown : .same }
        let read = box.input.position
        let change = box.input.change
        var next: FileInput?
        let what: String
        switch change {
        case .replaced?:
            do throws(RunnelError) { next = try FileInput(path: path) } catch {
                guard error.code == .notFound else { throw error }
            }
            if let next, next.begins(with: box.input, count: read), next.seek(to: read) {
                box.input = next
                watch.rewatch()
                track.cut = nil
                logger.info("\(path) was saved anew, beginning with all that was read of it: reading on from there")
                return .continued
            }
            what = "replaced (rotated, or saved anew)"
        case .truncated?:
            // Its writer may be at work (truncated, then written from the start): look again
            // until it has been quiet for a while, and for two seconds at most.
            guard let cut = track.cut else {
                track.cut = .now
                return .cut
            }
            if woken && cut.duration(to: .now) < .seconds(2) { return .cut }
            what = "truncated"
        case nil:
            guard track.holds(box.input, endingAt: read) else {
                what = "written anew in its place"
                break
            }
            if track.cut != nil {
                track.cut = nil
                logger.info("\(path) was written again in its place, beginning with all that was read of it: reading on from there")
                return .continued
            }
            return box.input.size > read ? .grown : .same
        }
        track.restart()
        if let cursor {
            logger.warning(
                "\(path) was \(what); the cursor counts the lines of one file, so reading ends here: remove \(cursor.path) and run again to read the new file")
            return .end
        }
        if change == .replaced {
            guard let next else { return .gone }
            box.input = next
            watch.rewatch()
        } else {
            _ = box.input.seek(to: 0)
        }
        logger.info("\(path) was \(what): reading it from its start")
        return .anew
    }
}

/// At most N inputs in flight from a stream, so a slow downstream slows the reading.
final class InFlightLimit: Sendable {
    private struct State {
        var available: Int
        var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
        let capacity: Int
        /// No more waiting: a drain began.
        var cancelled = false
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
                if s.cancelled || s.available >= min(n, s.capacity) {
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

    /// Ends every wait, now and later.
    func cancel() {
        let waiting = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.cancelled = true
            defer { s.waiters = [] }
            return s.waiters.map(\.1)
        }
        for waiter in waiting { waiter.resume() }
    }
}

/// The input file, used on one queue at a time.
final class InputBox: @unchecked Sendable {
    /// Replaced only between reads, when a followed file is replaced under its name.
    var input: FileInput
    init(_ input: FileInput) { self.input = input }
}
