import Foundation
import RunnelProtocol
import Testing

@testable import RunnelTransport

@Suite("Capture logs: writer")
struct CaptureWriterTests {
    @Test("rotation by size makes numbered files, each readable alone, and an index that matches them")
    func rotationBySize() throws {
        let dir = try CaptureFixtures.directory()
        let writer = try CaptureLogWriter(path: dir + "/parse-enrich.jsonl.zst", options: CaptureOptions(maxFileBytes: 4096))
        var sent: [String] = []
        for batch in 0..<60 {
            let messages = (0..<8).map { CaptureFixtures.message(batch * 8 + $0) }
            writer.append(messages)
            sent += messages.map(\.id)
        }
        writer.close()
        let status = writer.status
        #expect(status.messages == 480 && status.dropped == 0 && status.stopped == nil)

        let name = CaptureLogName(dir + "/parse-enrich.jsonl.zst")
        let files = name.existingFiles()
        #expect(files.count >= 3, "\(files.count) files")
        #expect(files.map(\.number) == Array(1...files.count), "numbered from 1 without gaps")
        #expect(files.first?.path.hasSuffix("/parse-enrich.000001.jsonl.zst") == true)
        #expect(status.files == files.count)

        let index = CaptureLogIndex.read(name.indexPath)
        #expect(index.entries.map(\.number) == files.map(\.number))
        var all: [String] = []
        for (entry, file) in zip(index.entries, files) {
            let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as! Int
            let (ids, warnings) = try CaptureFixtures.readAll([file.path])
            #expect(warnings.isEmpty)
            #expect(entry.file == URL(fileURLWithPath: file.path).lastPathComponent)
            #expect(entry.bytes == size)
            #expect(entry.count == ids.count)
            #expect(entry.closed)
            #expect(entry.firstTs == CaptureFixtures.message(Int(ids.first!.dropFirst())!).ts)
            #expect(entry.lastTs == CaptureFixtures.message(Int(ids.last!.dropFirst())!).ts)
            if file.number < files.count { #expect(size >= 4096, "a file is closed only once full") }
            all += ids
        }
        #expect(all == sent)
        // The log's name reads every file in order.
        #expect(try CaptureFixtures.readAll([dir + "/parse-enrich.jsonl.zst"]).ids == sent)
        // zstd frames, one per batch: the files hold 60 frames in all.
        var frames = 0
        for file in files {
            let scanner = try CaptureFileScanner(path: file.path)
            while try scanner.next() != nil { frames += 1 }
        }
        #expect(frames == 60)
    }

    @Test("rotation by age starts a new file for a frame written after the age limit")
    func rotationByAge() async throws {
        let dir = try CaptureFixtures.directory()
        let writer = try CaptureLogWriter(path: dir + "/aged.jsonl.zst", options: CaptureOptions(maxFileAgeSeconds: 0.2))
        writer.append([CaptureFixtures.message(1)])
        writer.flush()
        writer.append([CaptureFixtures.message(2)])
        writer.flush()
        // The file's age passing its limit is what is tested, and the writer reads the monotonic
        // clock, so this sleep is the behaviour under test (a busy machine only makes it longer).
        try await Task.sleep(for: .milliseconds(300))
        writer.append([CaptureFixtures.message(3)])
        await writer.close()
        let files = CaptureLogName(dir + "/aged.jsonl.zst").existingFiles()
        try #require(files.count == 2)
        #expect(try CaptureFixtures.readAll([files[0].path]).ids == ["m1", "m2"])
        #expect(try CaptureFixtures.readAll([files[1].path]).ids == ["m3"])
    }

    @Test("a full disk stops capture, says so, and never blocks or fails the caller")
    func diskFull() throws {
        let dir = try CaptureFixtures.directory()
        // The log's next file is /dev/full: every write fails with ENOSPC, as on a full disk.
        #expect(symlink("/dev/full", dir + "/full.000001.jsonl.zst") == 0)
        let writer = try CaptureLogWriter(path: dir + "/full.jsonl.zst")
        let started = ContinuousClock.now
        for batch in 0..<500 {
            writer.append((0..<10).map { CaptureFixtures.message(batch * 10 + $0) })
        }
        let appending = ContinuousClock.now - started
        writer.close()
        let status = writer.status
        #expect(status.stopped == "disk full", "\(status)")
        #expect(status.error?.contains("RESOURCE_EXHAUSTED") == true, "\(status.error ?? "")")
        #expect(status.error?.contains("No space left on device") == true, "\(status.error ?? "")")
        #expect(status.messages == 0)
        #expect(status.dropped == 5000, "every message after the failure is counted: \(status)")
        #expect(status.summary.contains("stopped: disk full (5000 dropped)"), "\(status.summary)")
        #expect(appending < .seconds(5), "appends do not wait for the disk: \(appending)")
        // Later appends are counted, not written.
        writer.append([CaptureFixtures.message(9)])
        #expect(writer.status.dropped == 5001)
    }

    @Test("a disk that does not keep up fills the bounded queue: capture stops, appends never wait, the log is a whole prefix")
    func queueFull() async throws {
        let log = try StalledLog()
        let writer = log.writer
        let started = ContinuousClock.now
        log.fill()
        let appending = ContinuousClock.now - started
        let stopped = writer.status
        #expect(stopped.stopped == "queue full", "\(stopped)")
        #expect(stopped.error?.contains("the disk did not keep up") == true)
        #expect(appending < .seconds(5), "appends do not wait for the disk: \(appending)")

        // Now the disk catches up: what was queued before the stop is written, the rest dropped.
        let drained = log.catchUp()
        // Everything the queue took is written as the disk catches up (`close()` right away would
        // drop what a stopped capture still has queued: a stop never lengthens a shutdown).
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                writer.flush()
                done.resume()
            }
        }
        await writer.close()
        let bytes = await drained.value
        let status = writer.status
        #expect(status.messages > 0 && status.messages < 2000, "\(status)")
        #expect(status.messages + status.dropped == 2000, "every message is written or counted: \(status)")
        // Dropped are the batches refused after the stop, and only those: every batch the queue
        // took is written, however far the writer thread had got when the queue filled (it
        // used to drop them, and under load wrote nothing at all).
        #expect(status.dropped == stopped.dropped, "queued before the stop, written after it: \(stopped) then \(status)")
        #expect(try StalledLog.ids(in: bytes) == (0..<status.messages).map { "m\($0)" }, "a prefix, without gaps")
    }

    @Test("closing a capture that stopped drops what it still has queued: a stop never lengthens a shutdown")
    func closeAfterStop() async throws {
        let log = try StalledLog()
        let writer = log.writer
        log.fill()
        let stopped = writer.status
        try #require(stopped.stopped == "queue full", "\(stopped)")
        // Closing begins while the queue still holds what it took (the writer thread is stuck in
        // its first write, or has not begun); then the disk lets the write in progress finish.
        writer.beginClosing()
        let closing = Task.detached { await writer.close() }
        let drained = log.catchUp()
        await closing.value
        let bytes = await drained.value
        let status = writer.status
        #expect(status.messages + status.dropped == 2000, "every message is written or counted: \(status)")
        #expect(status.dropped > stopped.dropped, "what was queued at the close is dropped, not written: \(stopped) then \(status)")
        #expect(try StalledLog.ids(in: bytes) == (0..<status.messages).map { "m\($0)" }, "a prefix, without gaps")
    }

    @Test("a log that cannot be created is an error at start, naming the path")
    func cannotCreate() throws {
        let dir = try CaptureFixtures.directory()
        _ = FileManager.default.createFile(atPath: dir + "/file", contents: Data())
        #expect {
            _ = try CaptureLogWriter(path: dir + "/file/sub/log.jsonl.zst")
        } throws: { error in
            (error as? RunnelError)?.message.contains(dir + "/file/sub") == true
        }
    }

    @Test("a log's name stands for its numbered files and its index")
    func naming() {
        #expect(CaptureLogName("a/b.jsonl.zst").file(number: 12) == "a/b.000012.jsonl.zst")
        #expect(CaptureLogName("a/b.000012.jsonl.zst").stem == "a/b")
        #expect(CaptureLogName("a/b.jsonl.zst").indexPath == "a/b.index.jsonl")
    }
}

/// A capture log whose first file is a FIFO nobody reads yet: the writer thread blocks on it after
/// 64 KiB, as it would on a disk that stalls, and a queue of 256 KiB fills behind it.
private final class StalledLog: Sendable {
    let writer: CaptureLogWriter
    private let fifo: Int32

    init() throws {
        let dir = try CaptureFixtures.directory()
        let path = dir + "/stalled.000001.jsonl.zst"
        #expect(mkfifo(path, 0o600) == 0)
        fifo = open(path, O_RDONLY | O_NONBLOCK)
        try #require(fifo >= 0)
        writer = try CaptureLogWriter(path: dir + "/stalled.jsonl.zst", options: CaptureOptions(queueBytes: 256 << 10))
    }

    deinit { close(fifo) }

    /// Appends 2,000 messages, `m0` to `m1999`, ten a batch: more than the queue holds.
    func fill() {
        for batch in 0..<200 {
            writer.append((0..<10).map { CaptureFixtures.message(batch * 10 + $0) })
        }
    }

    /// The disk catches up: everything written to the file, read until the writer closes it.
    func catchUp() -> Task<[UInt8], Never> {
        _ = fcntl(fifo, F_SETFL, 0)
        let fifo = fifo
        return Task.detached {
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fifo, $0.baseAddress, $0.count) }
                if n > 0 { bytes += buffer[0..<n] } else if n < 0 && errno == EINTR { continue } else { return bytes }
            }
        }
    }

    /// The ids of the data lines in a log's bytes, in order.
    static func ids(in bytes: [UInt8]) throws -> [String] {
        var ids: [String] = []
        let decoder = StreamDecoder()
        try decoder.feed(bytes) { event in
            if case let .line(line, _) = event, case let .data(envelope) = try WireLine(line: line) { ids.append(envelope.id) }
        }
        try decoder.finish { _ in }
        return ids
    }
}
