import RunnelProtocol
import RunnelStage
import RunnelTransport
import Foundation
import Synchronization

/// Where a replay sends its messages.
public protocol ReplayTarget: Sendable {
    /// Sends messages in order; suspends while the receiver is behind.
    func send(_ messages: [LoggedMessage]) async throws(RunnelError)
    /// Messages done so far (acked by a stage, or written to a stream).
    var acked: Int { get }
    /// Messages refused for good so far.
    var failed: Int { get }
    /// Waits for what is still in flight; returns how many were never acked.
    func finish() async throws(RunnelError) -> Int
}

/// Plays messages of logs into a target: it selects, paces them by their `ts` gaps, sends in
/// batches, and counts.
///
/// ```swift
/// let replayer = Replayer(messages: LogMessages(paths: ["in.jsonl.zst"]) { error, file in … },
///                         selection: Selection(), speed: .times(10))
/// let report = try await replayer.run(into: SocketTarget(sender: sender))
/// ```
public final class Replayer: Sendable {
    /// What a replay did.
    public struct Report: Sendable, Hashable {
        public var sent = 0
        public var acked = 0
        public var failed = 0
        public var unacked = 0
        public var elapsed: Duration = .zero

        /// Messages per second, over the whole replay.
        public var rate: Double {
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            return seconds > 0 ? Double(sent) / seconds : 0
        }
    }

    public let messages: LogMessages
    public let selection: Selection
    public let speed: ReplayClock.Speed
    /// The longest wait between two paced messages (``ReplayClock/maxGap``).
    public let maxGap: Duration?
    /// Told of each wait over a minute before the next message, with its `ts`.
    private let onLongWait: (@Sendable (Duration, String?) -> Void)?
    /// Messages sent together (when they are due together).
    public let batchSize: Int
    private let sentCount = Mutex(0)
    private let sentIDs = Mutex<[String]?>(nil)

    public init(
        messages: LogMessages, selection: Selection, speed: ReplayClock.Speed, maxGap: Duration? = nil, batchSize: Int = 64,
        keepingIDs: Bool = false, onLongWait: (@Sendable (Duration, String?) -> Void)? = nil
    ) {
        self.messages = messages
        self.selection = selection
        self.speed = speed
        self.maxGap = maxGap
        self.onLongWait = onLongWait
        self.batchSize = max(batchSize, 1)
        if keepingIDs { sentIDs.withLock { $0 = [] } }
    }

    /// Messages handed to the target so far (for a progress bar).
    public var sent: Int { sentCount.withLock { $0 } }

    /// The ids sent, in order, when made with `keepingIDs` (a comparison needs them).
    public var ids: [String] { sentIDs.withLock { $0 ?? [] } }

    /// How many messages the selection takes from the logs (reads them all once).
    public func count() -> Int {
        var n = 0
        for message in messages where selection.accepts(message.envelope) {
            n += 1
            if let limit = selection.limit, n >= limit { break }
        }
        return n
    }

    /// Messages sent together at `--speed max`, when nothing is paced: larger batches mean fewer
    /// hops between the reading thread, the replay task and the link.
    public static let unpacedBatchSize = 256

    /// Replays every selected message into `target`, then waits for its acks.
    ///
    /// The logs are read, decoded and selected on a thread of their own, a few batches ahead of
    /// the sending (a bounded ``BatchQueue``: a slow receiver slows the reading down), so reading
    /// and sending use two cores, as `runnel send` does.
    public func run(into target: some ReplayTarget) async throws(RunnelError) -> Report {
        let start = ContinuousClock.now
        let paced = speed != .max
        let queue = BatchQueue(capacity: 4)
        startReading(into: queue, batchSize: paced ? batchSize : max(batchSize, Self.unpacedBatchSize))
        defer { queue.cancel() }  // a failed send: the reader stops at its next batch

        func send(_ taken: [LoggedMessage]) async throws(RunnelError) {
            guard !taken.isEmpty else { return }
            sentIDs.withLock { ids in ids?.append(contentsOf: taken.map(\.envelope.id)) }
            try await target.send(taken)
            sentCount.withLock { $0 += taken.count }
        }

        if paced {
            var clock = ReplayClock(speed: speed, maxGap: maxGap)
            var batch: [LoggedMessage] = []
            func flush() async throws(RunnelError) {
                let taken = batch
                batch.removeAll(keepingCapacity: true)
                try await send(taken)
            }
            while let selected = await queue.next() {
                for message in selected {
                    let due = start + clock.due(ts: message.envelope.ts)
                    if due > .now {
                        try await flush()
                        let wait = ContinuousClock.now.duration(to: due)
                        if wait > .seconds(60) { onLongWait?(wait, message.envelope.ts) }
                        try? await Task.sleep(until: due, clock: .continuous)
                    }
                    batch.append(message)
                    if batch.count >= batchSize { try await flush() }
                }
            }
            try await flush()
        } else {
            while let selected = await queue.next() { try await send(selected) }
        }
        let unacked = try await target.finish()
        return Report(sent: sent, acked: target.acked, failed: target.failed, unacked: unacked, elapsed: start.duration(to: .now))
    }

    /// Reads the logs on a new thread: the selected messages, in order, in batches of `batchSize`.
    private func startReading(into queue: BatchQueue, batchSize: Int) {
        let messages = messages
        let selection = selection
        let thread = Thread {
            defer { queue.finish() }
            var batch: [LoggedMessage] = []
            batch.reserveCapacity(batchSize)
            var selected = 0
            for message in messages {
                if let limit = selection.limit, selected >= limit { break }
                guard selection.accepts(message.envelope) else { continue }
                selected += 1
                batch.append(message)
                if batch.count >= batchSize {
                    guard queue.push(batch) else { return }
                    batch.removeAll(keepingCapacity: true)
                }
            }
            if !batch.isEmpty { _ = queue.push(batch) }
        }
        thread.name = "runnel.replay.read"
        thread.stackSize = 1 << 20
        thread.start()
    }
}

/// A stage on a socket, through a ``ReliableSender``: acked, resent after reconnects.
public struct SocketTarget: ReplayTarget {
    public let sender: ReliableSender
    /// How long to wait for acks without any arriving, at the end.
    public let patience: Duration

    public init(sender: ReliableSender, patience: Duration = .seconds(30)) {
        self.sender = sender
        self.patience = patience
    }

    public func send(_ messages: [LoggedMessage]) async throws(RunnelError) {
        await sender.send(messages.map { message in
            var envelope = message.envelope
            envelope.seq = nil  // a log's seq belonged to its link
            return envelope
        })
    }

    public var acked: Int { sender.progress.acked }
    public var failed: Int { sender.progress.failed }

    public func finish() async throws(RunnelError) -> Int {
        await sender.finish(timeout: patience)
    }
}

/// A stream (stdout, a file): each selected line written exactly as it was in the log.
public final class StreamTarget: ReplayTarget, @unchecked Sendable {
    // Used by one replay at a time, from one task.
    private let output: FileOutput
    private let encoder: StreamEncoder
    private let written = Mutex(0)

    public init(output: FileOutput, zstd: Bool, level: Int = 1) {
        self.output = output
        encoder = StreamEncoder(format: zstd ? .zstd(level: level) : .plain)
    }

    public func send(_ messages: [LoggedMessage]) async throws(RunnelError) {
        for message in messages {
            message.line.withUnsafeBufferPointer { encoder.append(line: $0) }
        }
        try output.write(try encoder.flush())
        try output.flush()
        written.withLock { $0 += messages.count }
    }

    public var acked: Int { written.withLock { $0 } }
    public var failed: Int { 0 }

    public func finish() async throws(RunnelError) -> Int {
        try output.write(try encoder.finish())
        try output.flush()
        return 0
    }
}
