import Foundation
import Logging
import RunnelProtocol
import RunnelTransport
import Synchronization
import Testing

@testable import RunnelStage

/// A stage whose messages say how to be handled: `{"n":…,"slow":…,"size":…,"fail":…}`. A slow
/// one waits until `release` returns true (polled), so a test can hold it until it has seen what
/// the runner did with the others, and gives up after 60 s (noted in ``Log/gaveUp``: what it
/// waited for never happened); a big one answers with a body of `size` bytes.
private struct ScriptedStage: MessageStage {
    let service = ServiceDefinition(name: "scripted", summary: "test", accepts: ["job"], emits: ["done"])
    let concurrency: Int
    /// Polled by a slow message until it returns true (or 10 s pass).
    let release: @Sendable () -> Bool
    let log: Log

    /// What the stage did, shared by its copies.
    final class Log: Sendable {
        /// Every message started, in the order they started.
        let started = Mutex<[Int]>([])
        /// Failures still to give, by message number.
        let failuresLeft = Mutex<[Int: Int]>([:])
        /// The slow messages that stopped waiting for `release` at the time limit.
        let gaveUp = Mutex<[Int]>([])
    }

    init(concurrency: Int, log: Log = Log(), release: @escaping @Sendable () -> Bool = { true }) {
        self.concurrency = concurrency
        self.log = log
        self.release = release
    }

    struct Job: Codable {
        var n: Int
        var slow = false
        var size = 0
        var fail = 0
    }

    static func message(_ job: Job) throws -> Envelope {
        Envelope(type: "job", body: try RawJSON(encoding: job))
    }

    func handle(_ message: Envelope) async throws(RunnelError) -> [Emission] {
        let job = try message.body.decode(Job.self)
        log.started.withLock { $0.append(job.n) }
        if job.fail > 0 {
            let fail = log.failuresLeft.withLock { left -> Bool in
                let remaining = left[job.n, default: job.fail]
                left[job.n] = remaining - 1
                return remaining > 0
            }
            if fail { throw RunnelError(.unavailable, "message \(job.n) fails for now") }
        }
        if job.slow {
            let until = ContinuousClock.now + .seconds(60)
            while !release() {
                if ContinuousClock.now >= until {
                    log.gaveUp.withLock { $0.append(job.n) }
                    break
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let padding = String(repeating: "x", count: job.size)
        return [Emission(type: "done", body: try RawJSON(encoding: ["n": "\(job.n)", "padding": padding]))]
    }
}

/// The number in a `done` output's body.
private func number(_ envelope: Envelope) -> Int? {
    (try? envelope.body.decode([String: String].self))?["n"].flatMap { Int($0) }
}

@Suite("Streaming batches: each input's outputs go on when it is done (issue 14)")
struct StreamingBatchTests {
    @Test("InputOrder releases results in input order, as soon as the ones before them are in")
    func inputOrder() {
        var order = InputOrder<String>(count: 4)
        func released() -> [String] {
            var out: [String] = []
            while let next = order.next() { out.append(next) }
            return out
        }
        order.put("c", at: 2)
        #expect(released() == [])
        order.put("a", at: 0)
        #expect(released() == ["a"])
        order.put("a", at: 0)  // already released: ignored
        order.put("b", at: 1)
        #expect(released() == ["b", "c"])
        #expect(!order.isComplete)
        order.put("z", at: 9)  // out of range: ignored
        order.put("d", at: 3)
        #expect(released() == ["d"])
        #expect(order.isComplete)
    }

    @Test("the processor delivers a fast input's result before a slow one of the same batch is done")
    func earlyDelivery() async throws {
        let delivered = Mutex<[Int]>([])
        let stage = ScriptedStage(concurrency: 4) { delivered.withLock { $0.count >= 3 } }
        defer { #expect(stage.log.gaveUp.withLock { $0 }.isEmpty) }
        let processor = StageProcessor(stage: stage)
        let batch = try [
            ScriptedStage.message(.init(n: 0, slow: true)), ScriptedStage.message(.init(n: 1)),
            ScriptedStage.message(.init(n: 2)), ScriptedStage.message(.init(n: 3)),
        ].map { ReceivedMessage($0) }
        await processor.process(batch) { index, result in
            #expect(result.outputs.count == 1)
            #expect(result.input.id == batch[index].envelope.id)
            delivered.withLock { $0.append(index) }
        }
        let order = delivered.withLock { $0 }
        #expect(order.sorted() == [0, 1, 2, 3])
        #expect(order.last == 0, "the slow input is delivered last, after the others were handed on")
    }

    @Test("a retryable failure is tried again after the rest of the batch was delivered; each index once")
    func retryAfterTheRest() async throws {
        let stage = ScriptedStage(concurrency: 2)
        let processor = StageProcessor(stage: stage, configuration: RunnerConfiguration(initialBackoffMs: 1))
        let batch = try [
            ScriptedStage.message(.init(n: 0, fail: 1)), ScriptedStage.message(.init(n: 1)), ScriptedStage.message(.init(n: 2)),
        ].map { ReceivedMessage($0) }
        var delivered: [(Int, ProcessedMessage)] = []
        await processor.process(batch) { index, result in delivered.append((index, result)) }
        // 1 and 2 run side by side (concurrency 2), so either may be delivered first; the
        // retried 0 comes after both.
        #expect(delivered.map(\.0).sorted() == [0, 1, 2])
        #expect(delivered.last?.0 == 0)
        #expect(delivered.last?.1.attempts == 2)
        #expect(delivered.allSatisfy { $0.1.outputs.count == 1 && $0.1.deadLetters.isEmpty })
    }

    @Test("a message stage starts nothing more than its lookahead past the oldest unfinished message")
    func lookaheadBound() async throws {
        let log = ScriptedStage.Log()
        // Message 0 is held until four messages have started, all the lookahead lets start while
        // it runs, and 50 ms more: without the bound, messages past 3 would start meanwhile.
        let whileSlow = Mutex<(seen: [Int], polls: Int)>(([], 0))
        let stage = ScriptedStage(concurrency: 2, log: log) {
            let started = log.started.withLock { $0 }
            return whileSlow.withLock { state in
                state.seen = started
                if started.count >= 4 { state.polls += 1 }
                return state.polls >= 10
            }
        }
        let batch = try [ScriptedStage.message(.init(n: 0, slow: true))] + (1..<10).map { try ScriptedStage.message(.init(n: $0)) }
        var delivered: [Int] = []
        await stage.handle(batch: batch) { index, _ in delivered.append(index) }
        #expect(ScriptedStage.lookahead(concurrency: 2) == 4)
        #expect(whileSlow.withLock { $0.seen }.sorted() == [0, 1, 2, 3])
        #expect(log.gaveUp.withLock { $0 }.isEmpty)
        #expect(delivered.sorted() == Array(0..<10))
        #expect(log.started.withLock { $0 }.sorted() == Array(0..<10))
    }

    @Test("a filter writes a finished input's output before a slow later input is done, in input order")
    func filterWritesEarly() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.jsonl")
        let big = FilterRunner<ScriptedStage>.writeThreshold
        // Message 1 is held until message 0's output is in the file: it would wait its time out
        // (and the test fail) if the filter wrote only at the end of the batch.
        let stage = ScriptedStage(concurrency: 4) {
            (try? String(contentsOfFile: output, encoding: .utf8))?.contains(#""n":"0""#) ?? false
        }
        let inputs = try [
            ScriptedStage.message(.init(n: 0, size: big)), ScriptedStage.message(.init(n: 1, slow: true)),
            ScriptedStage.message(.init(n: 2)), ScriptedStage.message(.init(n: 3, size: big)),
        ]
        try directory.write(inputs, to: "in.jsonl")
        let runner = try FilterRunner(
            stage: stage, input: try FileInput(path: directory.path("in.jsonl")), output: try FileOutput(path: output))
        let statistics = try await runner.run()
        #expect(statistics.emitted == 4)
        #expect(stage.log.gaveUp.withLock { $0 }.isEmpty, "message 1 waited for its time limit: message 0 was not written early")
        let numbers = try directory.messages(in: "out.jsonl").compactMap(number)
        #expect(numbers == [0, 1, 2, 3], "a filter keeps its input's order")
    }

    @Test("a link runner hands a finished input's output on before a slow input of its batch is done; all acked")
    func linkHandsOnEarly() async throws {
        let directory = try TemporaryDirectory()
        let output = directory.path("out.jsonl")
        let big = LinkRunner<ScriptedStage>.handOffThreshold
        let stage = ScriptedStage(concurrency: 4) {
            (try? String(contentsOfFile: output, encoding: .utf8))?.contains(#""n":"2""#) ?? false
        }
        let inputs = try [
            ScriptedStage.message(.init(n: 0, slow: true)), ScriptedStage.message(.init(n: 1)),
            ScriptedStage.message(.init(n: 2, size: big)), ScriptedStage.message(.init(n: 3, fail: 1)),
        ]
        try directory.write(inputs, to: "in.jsonl")
        var options = LinkRunner<ScriptedStage>.Options()
        options.listen = .file(path: directory.path("in.jsonl"))
        options.to = .file(path: output)
        options.cursorPath = directory.path("cursor")
        let runner = try LinkRunner(
            stage: stage, configuration: RunnerConfiguration(initialBackoffMs: 1), options: options)
        let (statistics, unacked) = try await runner.run()
        #expect(stage.log.gaveUp.withLock { $0 }.isEmpty, "message 0 waited for its time limit: message 2 was not handed on early")
        #expect(statistics.emitted == 4)
        #expect(statistics.retried == 1)
        #expect(unacked == 0)
        let numbers = try directory.messages(in: "out.jsonl").compactMap(number)
        #expect(numbers.sorted() == [0, 1, 2, 3])
        #expect(numbers.firstIndex(of: 2)! < numbers.firstIndex(of: 0)!)
        // Every line is done end to end: the cursor is past all four.
        let cursor = try String(contentsOfFile: directory.path("cursor"), encoding: .utf8)
        #expect(cursor.trimmingCharacters(in: .whitespacesAndNewlines) == "4")
    }

    @Test("a link's window holds a bounded number of body bytes: send waits past it, and room frees it")
    func outputWindowBytes() async throws {
        let link = LinkDownstream(
            endpoint: .unix(path: "/nonexistent/runnel-test.sock"),
            handshake: Handshake(local: Hello(stage: "test", accepts: [], emits: ["*"])), capacity: 1024, maxBytes: 1000,
            logger: Logger(label: "test"), deadLetter: { _, _, _ in })
        func outgoing(_ size: Int) throws -> Outgoing {
            Outgoing(
                envelope: Envelope(type: "x", body: try RawJSON(encoding: String(repeating: "x", count: size))),
                ticket: Ticket(count: 1) {})
        }
        // One message larger than the bound still goes into an empty window.
        await link.send([try outgoing(2000)])
        let second = try outgoing(10)
        let sent = Mutex(false)
        let waiting = Task {
            await link.send([second])
            sent.withLock { $0 = true }
        }
        try await Task.sleep(for: .milliseconds(200))
        #expect(!sent.withLock { $0 }, "the window holds 2,000 bytes of a 1,000-byte bound: send waits")
        #expect(await link.dropUnsent() == 1)
        await waiting.value
        #expect(sent.withLock { $0 })
        #expect(await link.dropUnsent() == 1)
    }
}
