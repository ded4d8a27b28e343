import Foundation
import RunnelProtocol
import RunnelTransport
import Synchronization
import Testing

@testable import RunnelStage

#if canImport(Glibc)
import Glibc
#endif

/// A stage that passes every input on and notes the size of each batch it was given, also as
/// an event a test can wait for.
private struct BatchCountingStage: Stage {
    let service = ServiceDefinition(name: "counting", summary: "test", accepts: ["job"], emits: ["job"])
    let batches = Batches()

    final class Batches: Sendable {
        let sizes = Mutex<[Int]>([])
        let (events, handled) = AsyncStream.makeStream(of: Int.self)
    }

    func handle(batch: [Envelope]) async -> [StageOutcome] {
        batches.sizes.withLock { $0.append(batch.count) }
        batches.handled.yield(batch.count)
        return batch.map { _ in .forward }
    }
}

/// A filter's batches are as large as `--batch` asks while the input is there to fill them (a
/// store commits once a batch: a file cut into a batch a read made it commit ~60 times for
/// 5,000 articles, not 10, and a pipe ~1,000 times), and input that is not there yet is not
/// waited for.
@Suite("Filter batches: filled across reads")
struct FilterBatchTests {
    @Test("a file read 4 KiB at a time is handled in full batches of 64, the rest in one, every message once, in order")
    func fullBatchesFromAFile() async throws {
        let directory = try TemporaryDirectory()
        let messages = try (0..<1000).map { n in
            Envelope(id: "m\(n)", type: "job", body: try RawJSON(encoding: ["n": n, "pad": n % 97]))
        }
        try directory.write(messages, to: "in.jsonl")
        let input = directory.path("in.jsonl")
        let output = directory.path("out.jsonl")
        let size = try FileManager.default.attributesOfItem(atPath: input)[.size] as? Int ?? 0
        #expect(size > 20 * 4096, "many reads: \(size) bytes")

        let stage = BatchCountingStage()
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: try FileInput(path: input, chunkSize: 4096), output: try FileOutput(path: output))
        let statistics = try await runner.run()

        #expect(stage.batches.sizes.withLock { $0 } == Array(repeating: 64, count: 15) + [40])
        #expect(statistics.received == 1000)
        #expect(try directory.messages(in: "out.jsonl").map(\.id) == (0..<1000).map { "m\($0)" })
    }

    @Test("a pipe that is backed up fills batches too: 300 messages waiting in it are handled 64 at a time")
    func aBackedUpPipe() async throws {
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        var bytes: [UInt8] = []
        for n in 0..<300 {
            Envelope(id: "m\(n)", type: "job", body: try RawJSON(encoding: ["n": n])).appendLine(to: &bytes)
        }
        #expect(bytes.count < 60_000, "the whole input fits a pipe's buffer: \(bytes.count) bytes")
        #expect(bytes.withUnsafeBytes { Glibc.write(pipe[1], $0.baseAddress, $0.count) } == bytes.count)
        Glibc.close(pipe[1])
        let directory = try TemporaryDirectory()

        let stage = BatchCountingStage()
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: FileInput(descriptor: pipe[0], name: "pipe", chunkSize: 4096),
            output: try FileOutput(path: directory.path("out.jsonl")))
        let statistics = try await runner.run()
        Glibc.close(pipe[0])
        #expect(stage.batches.sizes.withLock { $0 } == [64, 64, 64, 64, 44])
        #expect(statistics.received == 300)
    }

    @Test(
        "a pipe's input is handled as it comes: a message is not held back waiting for a batch to fill",
        .timeLimit(.minutes(1)))
    func aPipeIsNotWaitedFor() async throws {
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        let stage = BatchCountingStage()
        let directory = try TemporaryDirectory()
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: FileInput(descriptor: pipe[0], name: "pipe"),
            output: try FileOutput(path: directory.path("out.jsonl")))
        let run = Task { try await runner.run() }

        var line: [UInt8] = []
        Envelope(id: "first", type: "job", body: try RawJSON(encoding: ["n": 1])).appendLine(to: &line)
        #expect(line.withUnsafeBytes { Glibc.write(pipe[1], $0.baseAddress, $0.count) } == line.count)
        // The one message is handled while the pipe stays open: the runner did not wait for 63
        // more (if it did, the time limit ends the test).
        let first = await stage.batches.events.first { _ in true }
        #expect(first == 1)
        Glibc.close(pipe[1])
        let statistics = try await run.value
        #expect(statistics.received == 1)
    }
}
