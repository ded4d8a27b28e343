import Dispatch
import Logging
import NIOCore
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// The children behind a ``WrapStage``: which one takes the next inputs, the answers each owes
/// (in the order its inputs were written), and what happens when one goes silent, exits, or
/// answers with a line too long.
///
/// Each child has a writer task (its stdin, fed in order), a reader task (its stdout, one
/// line at a time) and, while answers are owed, a timer task. They report here; everything
/// they change is this actor's.
actor WrapChildren {
    enum Answer: Sendable {
        case line([UInt8])
        case failed(RunnelError)
    }

    /// The answers of one `answers(for:)` call, filled in any order, handed back when complete.
    private final class Batch {
        private var answers: [Answer?]
        private var remaining: Int
        private let continuation: CheckedContinuation<[Answer], Never>

        init(count: Int, continuation: CheckedContinuation<[Answer], Never>) {
            answers = Array(repeating: nil, count: count)
            remaining = count
            self.continuation = continuation
        }

        func set(_ index: Int, _ answer: Answer) {
            guard answers[index] == nil else { return }
            answers[index] = answer
            remaining -= 1
            if remaining == 0 { continuation.resume(returning: answers.map { $0! }) }
        }

        /// Takes back the answer at `index`, which turned out not to be its own; `false` when the
        /// batch was already handed back (too late).
        func retract(_ index: Int) -> Bool {
            guard remaining > 0, answers[index] != nil else { return false }
            answers[index] = nil
            remaining += 1
            return true
        }
    }

    /// One input written to a child, waiting for its answer line.
    private struct Pending {
        let batch: Batch
        let index: Int
        let line: [UInt8]

        func answer(_ answer: Answer) { batch.set(index, answer) }
        func retract() -> Bool { batch.retract(index) }
    }

    private enum StopReason {
        /// Its answer line was over the limit: its output is out of step.
        case lineTooLong
        /// It gave no answer within the answer timeout after its stdin closed.
        case timedOut
        /// This process got SIGTERM or SIGINT, and so did the child.
        case draining(Int32)
    }

    private final class Child {
        let id: Int
        let process: ChildProcess
        /// Inputs written, not yet answered, oldest first.
        var owed: [Pending] = []
        /// Inputs answered since the child last owed nothing. Their answers are only known to be
        /// theirs once it does: a filter that prints nothing for an input it fails on (jq prints
        /// its error on stderr and goes on) hands every later answer to the input before.
        var answered: [Pending] = []
        /// It runs one input alone, to tell which input of a muddled run gets no answer.
        var isolated = false
        /// Feeds the writer task; `nil` once its stdin is closed.
        var input: AsyncStream<ByteBuffer>.Continuation?
        var inputClosedAt: ContinuousClock.Instant?
        /// Its stdin was closed because it stayed silent with answers owed.
        var closedForSilence = false
        var answeredAfterClose = false
        var lastProgress = ContinuousClock.now
        var timer: Task<Void, Never>?
        var stopReason: StopReason?
        /// It exited, and a process it started kept its stdout open: it is not read any more.
        var stdoutHeldOpen = false

        init(id: Int, process: ChildProcess) {
            self.id = id
            self.process = process
        }
    }

    private let configuration: WrapStage.Configuration
    private let logger: Logger
    private var program: String { configuration.command.first ?? "" }
    /// The child that takes new inputs (none once it was closed or when each batch runs its own).
    private var current: Child?
    private var children: [Int: Child] = [:]
    private var nextID = 0
    /// Set by SIGTERM or SIGINT: no child is started any more.
    private var drainSignal: Int32?
    /// The filter answers only at the end of its input: each batch runs its own child.
    private var childPerBatch = false
    private var signalWatch: SignalWatch?
    private var strayLines = 0
    /// Inputs waiting to be run alone, one child each, one after another (see ``ended(_:status:)``).
    private var toIsolate: [Pending] = []
    private var isolating: Child?
    private var reportedMuddle = false
    /// Waiting in ``finish()`` for the children to be gone.
    private var finishWaiters: [CheckedContinuation<Void, Never>] = []

    init(configuration: WrapStage.Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Writes `lines` to a child and returns its answer to each, in order.
    func answers(for lines: [[UInt8]]) async -> [Answer] {
        guard !lines.isEmpty else { return [] }
        return await withCheckedContinuation { continuation in
            let batch = Batch(count: lines.count, continuation: continuation)
            send(lines.indices.map { Pending(batch: batch, index: $0, line: lines[$0]) })
        }
    }

    /// The input has ended: closes every child's stdin and waits until they are gone.
    func finish() async {
        current = nil
        for child in children.values { closeInput(child) }
        for child in children.values { armTimer(child, force: true) }
        while !children.isEmpty {
            await withCheckedContinuation { finishWaiters.append($0) }
        }
    }

    // MARK: Inputs

    private func send(_ inputs: [Pending]) {
        guard !inputs.isEmpty else { return }
        if let signal = drainSignal {
            let error = RunnelError(.cancelled, "the stage is stopping (\(Self.name(signal))); \(program) was not given this input")
            for input in inputs { input.answer(.failed(error)) }
            return
        }
        let child: Child
        if let current, !childPerBatch {
            child = current
        } else {
            do throws(ProcessError) {
                child = try start()
            } catch {
                for input in inputs { input.answer(.failed(error.runnelError)) }
                return
            }
            if !childPerBatch { current = child }
        }
        if child.owed.isEmpty { child.lastProgress = .now }
        child.owed += inputs
        var bytes = ByteBuffer()
        for input in inputs { bytes.writeBytes(input.line) }
        child.input?.yield(bytes)
        if childPerBatch { closeInput(child) }
        armTimer(child)
    }

    private func start() throws(ProcessError) -> Child {
        let process = try ChildProcess.launch(
            .init(configuration.command, standardInput: .pipe, standardOutput: .pipe, standardError: .inherit))
        installSignalHandlers()
        nextID += 1
        let child = Child(id: nextID, process: process)
        children[child.id] = child
        let (stream, input) = AsyncStream<ByteBuffer>.makeStream()
        child.input = input
        Task.detached {
            // A write fails once the child stops reading (EPIPE); its reader reports that.
            _ = try? await process.standardInput?.withWriter { writer in
                for await bytes in stream { try await writer.write(bytes) }
            }
        }
        let id = child.id
        let maxLine = configuration.maxLineBytes
        let grace = configuration.stopGrace
        Task.detached {
            let reader = Task {
                try? await process.standardOutput?.readLines(maxLength: maxLine) { line in
                    await self.received(line, from: id)
                }
            }
            // Its stdout closes when it exits, unless a process it started in the background
            // holds it open (`sh -c 'sleep 300 & exec cat'`): once it has exited, what it wrote
            // is read for up to the grace, then no more.
            let heldOpen = Task { () -> Bool in
                // (Cancelled when the reader ends first: then this wait ends at once too.)
                guard await process.exit(timeout: .seconds(365 * 86_400)) != nil else { return false }
                try? await Task.sleep(for: grace)
                guard !Task.isCancelled else { return false }
                reader.cancel()
                return true
            }
            await reader.value
            heldOpen.cancel()
            if await heldOpen.value { await self.stdoutHeldOpen(id) }
            // Its stdout is closed: it has exited, or is about to.
            var status = await process.exit(timeout: grace)
            if status == nil { status = await process.terminate(grace: grace) }
            await self.ended(id, status: status ?? .exited(-1))
        }
        return child
    }

    /// Starts a child for the next input waiting to run alone, once the one before has ended:
    /// its stdin is closed after that one line, so it answers it or ends without a word.
    private func runIsolated() {
        guard isolating == nil, !toIsolate.isEmpty else { return }
        let input = toIsolate.removeFirst()
        if let signal = drainSignal {
            let error = RunnelError(.cancelled, "the stage is stopping (\(Self.name(signal))); \(program) was not given this input")
            input.answer(.failed(error))
            for rest in toIsolate { rest.answer(.failed(error)) }
            toIsolate = []
            return
        }
        let child: Child
        do throws(ProcessError) {
            child = try start()
        } catch {
            input.answer(.failed(error.runnelError))
            return runIsolated()
        }
        child.isolated = true
        isolating = child
        child.lastProgress = .now
        child.owed = [input]
        var bytes = ByteBuffer()
        bytes.writeBytes(input.line)
        child.input?.yield(bytes)
        closeInput(child)
        armTimer(child)
    }

    private func closeInput(_ child: Child) {
        guard child.inputClosedAt == nil else { return }
        child.input?.finish()
        child.input = nil
        child.inputClosedAt = .now
        if current === child { current = nil }
    }

    // MARK: Answers

    private func received(_ line: ProcessOutput.Line, from id: Int) {
        guard let child = children[id] else { return }
        if case .lineTooLong? = child.stopReason { return }  // out of step: nothing it says counts
        child.lastProgress = .now
        switch line {
        case let .line(bytes):
            guard !child.owed.isEmpty else {
                strayLines += 1
                if strayLines == 1 { logger.warning("\(program) printed a line no input asked for; it is ignored (one line out per line in)") }
                return
            }
            if child.closedForSilence { child.answeredAfterClose = true }
            let input = child.owed.removeFirst()
            input.answer(.line(bytes))
            // Owing nothing, it gave one line for each input: these answers are settled.
            if child.owed.isEmpty { child.answered = [] } else { child.answered.append(input) }
        case .tooLong:
            if !child.owed.isEmpty {
                child.owed.removeFirst().answer(
                    .failed(
                        RunnelError(
                            .resourceExhausted,
                            "\(program) answered with a line longer than \(ByteSize(bytes: configuration.maxLineBytes)) (--max-line); it is started again")
                    ))
            }
            stop(child, .lineTooLong)
            let rest = child.owed
            child.owed = []
            send(rest)
        }
    }

    private func stdoutHeldOpen(_ id: Int) {
        children[id]?.stdoutHeldOpen = true
        logger.warning(
            "\(program) exited, but its stdout stayed open \(TimeSpan(configuration.stopGrace)) longer (a process it started in the background holds it?); it is no longer read")
    }

    private func ended(_ id: Int, status: ProcessExit) {
        guard let child = children.removeValue(forKey: id) else { return }
        child.timer?.cancel()
        let wasBeingFed = child.inputClosedAt == nil
        closeInput(child)
        if child.closedForSilence && child.answeredAfterClose && !childPerBatch {
            childPerBatch = true
            logger.warning(
                """
                \(program) answers only at the end of its input (its output is buffered), so each batch now runs it once; \
                to keep one running, make it flush each line (jq: --unbuffered, Python: flush=True)
                """)
        }
        var rest = child.owed
        child.owed = []
        switch child.stopReason {
        case .timedOut? where rest.isEmpty:
            // (One whose stdout was held open had exited: that was said.)
            guard !child.stdoutHeldOpen else { break }
            logger.warning("\(program) did not exit within \(TimeSpan(configuration.stopGrace)) of its input ending; it was stopped (\(status))")
        case .timedOut?:
            let error = RunnelError(
                .deadlineExceeded,
                "\(program) gave no answer within \(TimeSpan(configuration.answerTimeout)) once its input was closed; it was stopped (\(status))")
            for input in rest { input.answer(.failed(error)) }
        case let .draining(signal)?:
            let error = RunnelError(.cancelled, "the stage is stopping (\(Self.name(signal))): \(program) ended (\(status)) before it answered")
            for input in rest { input.answer(.failed(error)) }
        case .lineTooLong?:
            send(rest)
        case nil:
            if rest.isEmpty {
                if !status.isNormal { logger.warning("\(program) ended (\(status))") }
            } else if child.isolated || wasBeingFed || child.answered.isEmpty && rest.count == 1 {
                // It ended by itself while it was being fed: it died on the first input it owed.
                rest.removeFirst().answer(
                    .failed(RunnelError(.unavailable, "\(program) ended (\(status)) without answering (it must print one line per input line)")))
                send(rest)
            } else {
                // Its stdin was closed (it went silent owing answers, or each batch runs its own
                // child) and it ended owing answers without a word more: it printed no line for
                // some input (jq prints its error on stderr and goes on), so every answer since it
                // last owed nothing may belong to the input before. Which input got none is not
                // known: each of them is run again alone.
                let retracted = child.answered.filter { $0.retract() }
                child.answered = []
                if !reportedMuddle {
                    reportedMuddle = true
                    logger.warning(
                        "\(program) ended (\(status)) owing \(rest.count) answers: it printed no line for some input (one line out per line in), so the \(retracted.count + rest.count) inputs since it last answered everything are run again one at a time, to tell which of them it fails on"
                    )
                }
                toIsolate += retracted + rest
            }
        }
        if isolating === child { isolating = nil }
        runIsolated()
        if children.isEmpty {
            let waiters = finishWaiters
            finishWaiters = []
            for waiter in waiters { waiter.resume() }
        }
    }

    // MARK: Time

    /// Starts the child's timer if answers are owed (or, with `force`, until it is gone).
    private func armTimer(_ child: Child, force: Bool = false) {
        if force {
            // A timer armed for owed answers ends once none is owed, and would leave a child that
            // answered everything and then never exits running for ever: the forced one replaces it.
            child.timer?.cancel()
            child.timer = nil
        }
        guard child.timer == nil, force || !child.owed.isEmpty else { return }
        let id = child.id
        child.timer = Task { await self.watch(id, force: force) }
    }

    /// Sleeps until the child's next deadline: silence with answers owed closes its stdin;
    /// silence after that stops it.
    private func watch(_ id: Int, force: Bool) async {
        while let child = children[id], force || !child.owed.isEmpty, child.stopReason == nil {
            let deadline: ContinuousClock.Instant
            if let closed = child.inputClosedAt {
                // Owed answers may each take the answer timeout; with none owed (the input
                // ended), the child has the stop grace to exit.
                deadline =
                    child.owed.isEmpty
                    ? closed + configuration.stopGrace : max(closed, child.lastProgress) + configuration.answerTimeout
            } else {
                deadline = child.lastProgress + configuration.flushWait
            }
            if ContinuousClock.now >= deadline {
                if child.inputClosedAt == nil {
                    child.closedForSilence = true
                    closeInput(child)
                } else {
                    stop(child, .timedOut)
                }
                continue
            }
            do {
                try await Task.sleep(until: deadline)
            } catch {
                return
            }
        }
        if !Task.isCancelled { children[id]?.timer = nil }  // (cancelled: a forced timer took its place)
    }

    private func stop(_ child: Child, _ reason: StopReason) {
        guard child.stopReason == nil else { return }
        child.stopReason = reason
        closeInput(child)
        let process = child.process
        let grace = configuration.stopGrace
        Task { await process.terminate(grace: grace) }
    }

    // MARK: Signals

    private func installSignalHandlers() {
        guard signalWatch == nil else { return }
        // A second watch beside the runner's: each gets the signal.
        signalWatch = SignalWatch([SIGTERM, SIGINT]) { number in Task { await self.drain(number) } }
    }

    /// SIGTERM or SIGINT: no new child; each running one gets the signal, and SIGKILL after
    /// the grace period.
    private func drain(_ signal: Int32) {
        guard drainSignal == nil else { return }
        drainSignal = signal
        current = nil
        let grace = configuration.stopGrace
        for child in children.values where child.stopReason == nil {
            child.stopReason = .draining(signal)
            closeInput(child)
            let process = child.process
            process.signal(signal)
            Task {
                if await process.exit(timeout: grace) == nil { process.signal(SIGKILL) }
            }
        }
    }

    private static func name(_ signal: Int32) -> String {
        ProcessExit.signalName(signal) ?? "signal \(signal)"
    }
}
