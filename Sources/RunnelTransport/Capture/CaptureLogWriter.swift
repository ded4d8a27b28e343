import Dispatch
import RunnelProtocol
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends a link's messages to a capture log, off the link's hot path.
///
/// Each batch becomes one zstd frame of JSON lines (`Protocol/PROTOCOL.md`, section 10), so
/// `zstdcat FILE | jq` reads any file of the log. Files rotate by size and age into
/// `NAME.000001.jsonl.zst`, `NAME.000002.jsonl.zst`, … with an index (``CaptureLogIndex``).
///
/// ``append(_:)`` never blocks and never fails: the batch goes to a queue that a writer thread
/// drains. When the queue would hold more than ``CaptureOptions/queueBytes`` (the disk does not
/// keep up), capture **stops** taking batches: those already queued are still written (until
/// ``close()``, which drops what a stopped capture still has queued), later ones are counted as
/// dropped. When a write fails (a full disk, any error), capture stops at once: the frame it was
/// writing is cut off, and the rest is counted as dropped. Either way the log is a prefix of what
/// was appended, in whole frames, ``status`` says why, and the link goes on as if nothing
/// happened.
///
/// Opening a log that already has files repairs the last one (a writer killed mid-frame leaves a
/// torn tail, cut back to the last whole frame, see ``warnings``) and begins the next number.
///
/// ```swift
/// let capture = try CaptureLogWriter(path: ".runnel/news/capture/parse-enrich.jsonl.zst")
/// capture.append(batch)          // [Envelope], as sent
/// print(capture.status.summary)  // "…000001.jsonl.zst: 64 messages, 12.0 KiB"
/// capture.close()                // writes what is queued, then the index
/// ```
public final class CaptureLogWriter: Sendable {
    /// The log's name, as given.
    public let path: String
    public let options: CaptureOptions
    /// What opening the log found and repaired (torn tails cut off), one warning each.
    public let warnings: [CaptureLogWarning]

    private struct State {
        var status: CaptureStatus
        var queuedBytes = 0
        /// No more appends (``close()`` began).
        var closed = false
        /// The file is closed and the index written.
        var finished = false
        /// A write failed: the file is abandoned, and batches queued behind it are not written.
        var failed = false
    }

    private let state: Mutex<State>
    private let queue: DispatchQueue
    private let worker: Worker

    /// Opens (creates) the log and its first new file.
    /// - Parameters:
    ///   - path: the log's name: `DIR/NAME.jsonl.zst` writes `DIR/NAME.000001.jsonl.zst`, …; the
    ///     directory is created if missing.
    ///   - direction: `in` or `out`, shown in the status.
    /// - Throws: ``RunnelError`` when the directory or the file cannot be created (so a wrong
    ///   `--capture-out` is reported at start, not discovered later).
    public init(path: String, direction: String = "", options: CaptureOptions = CaptureOptions()) throws(RunnelError) {
        self.path = path
        self.options = options
        let worker = try Worker(name: CaptureLogName(path), options: options)
        self.worker = worker
        warnings = worker.warnings
        var status = CaptureStatus(log: path, direction: direction)
        status.file = worker.currentPath
        status.files = 1
        state = Mutex(State(status: status))
        queue = DispatchQueue(label: "runnel.capture")
    }

    deinit {
        // Queued batches hold the writer, so none is left by now: close the file here, not through
        // the queue (the last release may happen on it).
        if !state.withLock({ $0.finished }) { worker.close() }
    }

    /// Captures a batch of data messages (one frame). Never blocks.
    public func append(_ envelopes: [Envelope]) {
        guard !envelopes.isEmpty else { return }
        var size = 0
        for envelope in envelopes { size += envelope.body.bytes.count + 256 }
        enqueue(.envelopes(envelopes), size: size, count: envelopes.count)
    }

    /// Captures a batch of lines given as bytes, each ending in `\n` (one frame). Never blocks.
    /// - Parameter count: how many lines `lines` holds (for the status).
    public func append(lines: [UInt8], count: Int) {
        guard !lines.isEmpty else { return }
        enqueue(.lines(lines, count: count), size: lines.count, count: count)
    }

    /// What has been captured, and whether and why capture stopped.
    public var status: CaptureStatus { state.withLock { $0.status } }

    /// Waits until everything queued is written (what a stopped capture still has queued is
    /// dropped instead, and counted), closes the file and writes the index. Later appends are
    /// dropped (and counted).
    public func close() {
        beginClosing()
        let first = state.withLock { s -> Bool in
            defer { s.finished = true }
            return !s.finished
        }
        guard first else { return }
        queue.sync { worker.close() }
    }

    /// The first step of ``close()``: appends are refused from now on, and a stopped capture's
    /// queued batches are skipped instead of written.
    func beginClosing() {
        state.withLock { $0.closed = true }
    }

    /// ``close()`` without blocking a task's thread.
    public func close() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.close()
                done.resume()
            }
        }
    }

    /// Waits until everything queued so far is written (for tests and `runnel cat --tee`).
    public func flush() { queue.sync {} }

    // MARK: The queue

    private func enqueue(_ batch: Worker.Batch, size: Int, count: Int) {
        state.withLock { s in
            if s.closed || s.status.stopped != nil {
                s.status.dropped += count
                return
            }
            if s.queuedBytes > 0 && s.queuedBytes + size > options.queueBytes {
                s.status.stopped = "queue full"
                s.status.error =
                    "RESOURCE_EXHAUSTED: \(s.queuedBytes + size) bytes waiting to be written, over the limit of \(options.queueBytes) (the disk did not keep up with the link; capture stopped so the link is not slowed down)"
                s.status.dropped += count
                return
            }
            s.queuedBytes += size
            // Put on the queue under the lock: a `close()` that begins after this batch was taken
            // finds it queued ahead of the file's closing.
            queue.async { [self] in write(batch, size: size, count: count) }
        }
    }

    /// On the writer's queue: writes a batch the queue took. A batch taken before the queue
    /// filled is written whatever came after it, so what the log holds does not depend on when
    /// this thread got to run; it is skipped (and counted as dropped) after a failed write, and
    /// once capture has stopped and is being closed, so that a stop never lengthens a stage's
    /// shutdown. Either way the log stays a prefix.
    private func write(_ batch: Worker.Batch, size: Int, count: Int) {
        let skip = state.withLock { $0.failed || ($0.closed && $0.status.stopped != nil) }
        let result: Result<Void, RunnelError>
        if skip {
            result = .success(())
        } else {
            do throws(RunnelError) {
                try worker.write(batch)
                result = .success(())
            } catch {
                result = .failure(error)
            }
        }
        state.withLock { s in
            s.queuedBytes -= size
            switch result {
            case .success where skip:
                s.status.dropped += count
            case .success:
                s.status.messages = worker.messages
                s.status.bytes = worker.bytes
                s.status.files = worker.filesBegun
                s.status.file = worker.currentPath
            case let .failure(error):
                s.failed = true
                // The first reason stands (a full queue, then a write error behind it): stderr
                // reported it once, and the status says the same.
                if s.status.stopped == nil {
                    s.status.stopped = Self.reason(error)
                    s.status.error = "\(error.code.name): \(error.message)"
                }
                s.status.dropped += count
            }
        }
        if case .failure = result { worker.abandon() }
    }

    /// The short reason `runnel status` shows.
    static func reason(_ error: RunnelError) -> String {
        if error.message.hasSuffix(String(cString: strerror(ENOSPC))) || error.message.contains("(ENOSPC)") { return "disk full" }
        return "write error"
    }
}

extension CaptureLogWriter {
    /// The file-writing half: used only on the writer's queue (and in `init`).
    final class Worker: @unchecked Sendable {
        enum Batch: @unchecked Sendable {
            case envelopes([Envelope])
            case lines([UInt8], count: Int)
        }

        let name: CaptureLogName
        let options: CaptureOptions
        private(set) var warnings: [CaptureLogWarning] = []
        private(set) var messages = 0
        private(set) var bytes = 0
        private(set) var filesBegun = 0
        private var index: CaptureLogIndex
        private var number: Int
        private var fd: Int32 = -1
        private var openedAt = 0.0
        private var indexWrittenAt = 0.0
        private let encoder: StreamEncoder

        var currentPath: String { name.file(number: number) }

        init(name: CaptureLogName, options: CaptureOptions) throws(RunnelError) {
            self.name = name
            self.options = options
            encoder = StreamEncoder(format: .zstd(level: options.level))
            try Self.makeDirectory(name.directory)
            var opened = try CaptureLogRepair.reopen(name)
            warnings = opened.warnings
            let next = opened.nextNumber
            number = next
            opened.index.entries.removeAll { $0.number >= next }
            index = opened.index
            try openFile()
        }

        deinit { if fd >= 0 { Glibc.close(fd) } }

        func write(_ batch: Batch) throws(RunnelError) {
            // A file past its age gets no more frames: this one begins the next file.
            if fd >= 0, let entry = index.entries.last, entry.count > 0, Self.clock() - openedAt >= options.maxFileAgeSeconds {
                closeFile()
                number += 1
            }
            if fd < 0 { try openFile() }
            var first: String?
            var last: String?
            let count: Int
            switch batch {
            case let .envelopes(envelopes):
                for envelope in envelopes { encoder.append(envelope) }
                count = envelopes.count
                first = envelopes.first?.ts
                last = envelopes.last?.ts
            case let .lines(lines, lineCount):
                lines.withUnsafeBufferPointer { encoder.append(line: $0) }
                count = lineCount
                first = CaptureLogRepair.timestamp(ofFirstLineIn: lines[...])
                last = CaptureLogRepair.timestamp(ofLastLineIn: lines[...])
            }
            let raw = encoder.pendingCount
            let frame = try encoder.flush(endFrame: true)
            // A write that fails partway (ENOSPC) leaves part of a frame: cut back to where it began.
            let start = lseek(fd, 0, SEEK_END)
            do throws(RunnelError) {
                try writeAll(frame)
            } catch {
                if start >= 0 { _ = ftruncate(fd, start) }
                throw error
            }
            messages += count
            bytes += frame.count
            let now = Self.clock()
            let ts = Timestamp.now()
            update { entry in
                if entry.firstTs == nil { entry.firstTs = first ?? ts }
                entry.lastTs = last ?? ts
                entry.count += count
                entry.bytes += frame.count
                entry.rawBytes += raw
            }
            if let entry = index.entries.last, entry.bytes >= options.maxFileBytes {
                closeFile()
                number += 1
            } else if now - indexWrittenAt >= 2 {
                writeIndex()
            }
        }

        /// After a write error: let go of the file, keep the index of what was written.
        func abandon() {
            closeFile()
        }

        func close() {
            closeFile()
        }

        private func openFile() throws(RunnelError) {
            let path = currentPath
            fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw RunnelError.posix(errno, "cannot open the capture file \(path)") }
            openedAt = Self.clock()
            filesBegun += 1
            let file = path.split(separator: "/").last.map(String.init) ?? path
            if index.entries.last?.number != number {
                index.entries.append(CaptureLogIndex.Entry(file: file, number: number))
            }
            writeIndex()
        }

        private func closeFile() {
            guard fd >= 0 else { return }
            Glibc.close(fd)
            fd = -1
            update { $0.closed = true }
            writeIndex()
        }

        private func update(_ change: (inout CaptureLogIndex.Entry) -> Void) {
            guard !index.entries.isEmpty else { return }
            change(&index.entries[index.entries.count - 1])
        }

        private func writeIndex() {
            indexWrittenAt = Self.clock()
            try? index.write(to: name.indexPath)
        }

        private func writeAll(_ bytes: [UInt8]) throws(RunnelError) {
            let failure: Int32? = bytes.withUnsafeBytes { raw in
                var done = 0
                while done < raw.count {
                    let n = Glibc.write(fd, raw.baseAddress! + done, raw.count - done)
                    if n < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    done += n
                }
                return nil
            }
            if let failure {
                let what = failure == ENOSPC ? "cannot write the capture file \(currentPath) (ENOSPC)" : "cannot write the capture file \(currentPath)"
                throw RunnelError.posix(failure, what)
            }
        }

        static func clock() -> Double {
            var spec = timespec()
            clock_gettime(CLOCK_MONOTONIC, &spec)
            return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
        }

        static func makeDirectory(_ path: String) throws(RunnelError) {
            var info = stat()
            if stat(path, &info) == 0 { return }
            var partial = path.hasPrefix("/") ? "" : "."
            for component in path.split(separator: "/") {
                partial += "/" + component
                if mkdir(partial, 0o755) != 0 && errno != EEXIST {
                    throw RunnelError.posix(errno, "cannot create the capture directory \(partial)")
                }
            }
        }
    }
}
