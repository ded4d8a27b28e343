import Foundation
import NIOCore
import RunnelTransport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A stdin or stdout that another process made non-blocking: `O_NONBLOCK` belongs to the open
/// pipe, so `runnel` sees `EAGAIN` where a blocking read or write would have waited. It used to
/// end the command (`cat`: "INTERNAL: cannot write stdout: Resource temporarily unavailable";
/// a stage's stdin: the input cut short). Now it waits, as with a blocking pipe.
@Suite("a non-blocking stdin or stdout", .timeLimit(.minutes(1)))
struct SharedDescriptorTests {
    /// A pipe whose end the child gets is non-blocking.
    private static func pipe(nonBlocking end: Int) throws -> (read: Int32, write: Int32) {
        var ends: [Int32] = [0, 0]
        try #require(Glibc.pipe(&ends) == 0)
        for fd in ends { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        let fd = ends[end]
        try #require(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0)
        return (ends[0], ends[1])
    }

    @Test("runnel cat writes all of a large log to a stdout that would block")
    func nonBlockingStdout() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(20_000, to: input, bodyBytes: 100)  // ~4 MB: the 64 KiB pipe fills many times
        let expected = try Data(contentsOf: input).count
        let ends = try Self.pipe(nonBlocking: 1)
        let child = try ChildProcess.launch(
            .init([RunnelProcess.runnel, "cat", input.path], standardOutput: .inherit, standardError: .pipe, inheritedDescriptors: [1: ends.write]))
        close(ends.write)
        async let stderr = collect(child.standardError!)
        var received = 0
        try await ProcessOutput(descriptor: ends.read).readChunks { chunk in received += chunk.readableBytes }
        let status = await child.exit()
        let errors = String(decoding: try await stderr, as: UTF8.self)
        #expect(status == .exited(0), "\(errors)")
        #expect(received == expected)
    }

    @Test("a stage reads every line from a stdin that would block")
    func nonBlockingStdin() async throws {
        let lines = messages(2_000)
        let ends = try Self.pipe(nonBlocking: 0)
        let child = try ChildProcess.launch(
            .init([RunnelProcess.runnel, "relay"], standardInput: .inherit, standardError: .pipe, inheritedDescriptors: [0: ends.read]))
        close(ends.read)
        async let stderr = collect(child.standardError!)
        let (relayedSoFar, counter) = AsyncStream<Int>.makeStream()
        let reading = Task { () -> [String] in
            var relayed: [String] = []
            try await child.standardOutput!.readLines(maxLength: 1 << 20) { line in
                if case let .line(bytes) = line { relayed.append(String(decoding: bytes, as: UTF8.self)) }
                counter.yield(relayed.count)
            }
            counter.finish()
            return relayed
        }
        // A batch at a time, each once the stage has relayed the one before: it then reads a
        // pipe with nothing in it, and gets EAGAIN.
        try await ProcessInput(descriptor: ends.write).withWriter { writer in
            var counts = relayedSoFar.makeAsyncIterator()
            for start in stride(from: 0, to: lines.count, by: 200) {
                try await writer.write(ByteBuffer(bytes: data(Array(lines[start..<start + 200]))))
                while let count = await counts.next(), count < start + 200 {}
            }
        }
        let relayed = try await reading.value
        let status = await child.exit()
        let errors = String(decoding: try await stderr, as: UTF8.self)
        #expect(status == .exited(0), "\(errors)")
        #expect(relayed.count == lines.count, "\(errors)")
        #expect(relayed.last?.contains(#""id":"p1999""#) == true, "\(relayed.last ?? "")")
    }

    private func collect(_ output: ProcessOutput) async throws -> Data {
        var bytes = Data()
        try await output.readChunks { bytes.append(contentsOf: $0.readableBytesView) }
        return bytes
    }
}
