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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-batches-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var bytes: [UInt8] = []
        for n in 0..<1000 {
            Envelope(id: "m\(n)", type: "job", body: try RawJSON(encoding: ["n": n, "pad": n % 97])).appendLine(to: &bytes)
        }
        #expect(bytes.count > 20 * 4096, "many reads: \(bytes.count) bytes")
        let input = directory.appendingPathComponent("in.jsonl").path
        let output = directory.appendingPathComponent("out.jsonl").path
        try Data(bytes).write(to: URL(fileURLWithPath: input))

        let stage = BatchCountingStage()
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: try FileInput(path: input, chunkSize: 4096), output: try FileOutput(path: output))
        let statistics = try await runner.run()

        #expect(stage.batches.sizes.withLock { $0 } == Array(repeating: 64, count: 15) + [40])
        #expect(statistics.received == 1000)
        let ids = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").compactMap { line -> String? in
            guard case let .data(envelope) = try WireLine(line: Array(line.utf8)) else { return nil }
            return envelope.id
        }
        #expect(ids == (0..<1000).map { "m\($0)" })
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
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-batches-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        let stage = BatchCountingStage()
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: FileInput(descriptor: pipe[0], name: "pipe", chunkSize: 4096),
            output: try FileOutput(path: directory.appendingPathComponent("out.jsonl").path))
        let statistics = try await runner.run()
        Glibc.close(pipe[0])
        #expect(stage.batches.sizes.withLock { $0 } == [64, 64, 64, 64, 44])
        #expect(statistics.received == 300)
    }

    @Test("a pipe's input is handled as it comes: a message is not held back waiting for a batch to fill")
    func aPipeIsNotWaitedFor() async throws {
        var pipe: [Int32] = [0, 0]
        #expect(Glibc.pipe(&pipe) == 0)
        let stage = BatchCountingStage()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("runnel-batches-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let runner = try FilterRunner(
            stage: stage, configuration: RunnerConfiguration(batchSize: 64),
            input: FileInput(descriptor: pipe[0], name: "pipe"),
            output: try FileOutput(path: directory.appendingPathComponent("out.jsonl").path))
        let run = Task { try await runner.run() }

        var line: [UInt8] = []
        Envelope(id: "first", type: "job", body: try RawJSON(encoding: ["n": 1])).appendLine(to: &line)
        #expect(line.withUnsafeBytes { Glibc.write(pipe[1], $0.baseAddress, $0.count) } == line.count)
        // The one message is handled while the pipe stays open: the runner did not wait for 63 more.
        let first = try await withThrowingTaskGroup(of: Int?.self) { group in
            group.addTask { await stage.batches.events.first { _ in true } }
            group.addTask {
                try await Task.sleep(for: .seconds(60))
                return nil
            }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        #expect(first == 1, "no batch within 60 s while the pipe was open")
        Glibc.close(pipe[1])
        let statistics = try await run.value
        #expect(statistics.received == 1)
    }
}
