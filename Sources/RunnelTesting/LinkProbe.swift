import Foundation
import RunnelProtocol
import RunnelTransport
import Synchronization

/// An in-process upstream: connects to a stage's listening socket, sends messages within the
/// credit it grants, and records the acks. For conformance tests and tools.
public final class TestSender: Sendable {
    private let connection: LineConnection
    private let state = Mutex(State())

    private struct State {
        var credit = 0
        var acked: UInt64 = 0
        var nacked: [Nack] = []
        var bye: Bye?
    }

    private init(connection: LineConnection) {
        self.connection = connection
    }

    /// Connects, sends `messages` (numbered 1, 2, 3…) and waits until all are acked or
    /// `timeout` passes (then the connection is closed, so a stage that never answers cannot
    /// hold the caller). Extra `rawLines` (not JSON, say) are sent first, to test refusals.
    /// - Parameter ignoringCredit: misbehave: send every message at once, whatever credit the
    ///   stage granted (a receiver must end such a link with `bye` `RESOURCE_EXHAUSTED`).
    /// - Returns: the highest seq acked, the nacks, and the `bye` the stage sent, if any.
    public static func send(
        _ messages: [Envelope], rawLines: [String] = [], to endpoint: Endpoint, key: SharedKey? = nil,
        emits: [String] = ["*"], timeout: Duration = .seconds(20), ignoringCredit: Bool = false
    ) async throws -> (acked: UInt64, nacks: [Nack], bye: Bye?) {
        let connection = try await LineConnection.connect(to: endpoint)
        let sender = TestSender(connection: connection)
        let deadline = ContinuousClock.now + timeout
        // The deadline bounds a stage that stops answering: a read waits on the socket, not on
        // the clock, so the connection is closed under it when the time is up.
        let expiry = Task {
            try await Task.sleep(until: deadline)
            connection.close()
        }
        defer { expiry.cancel() }
        return try await connection.run { reader, writer in
            _ = try await Handshake(local: Hello(stage: "conformance-sender", emits: emits), key: key)
                .connect(&reader, writer)
            if !rawLines.isEmpty { try writer.sendRaw(rawLines) }
            var next = 0
            if ignoringCredit {
                try writer.send(messages.enumerated().map { (seq: UInt64($0.offset + 1), envelope: $0.element) })
                next = messages.count
            }
            while ContinuousClock.now < deadline {
                // Send what the credit allows.
                let allowance = sender.state.withLock { s -> Int in
                    let n = min(s.credit, messages.count - next)
                    s.credit -= n
                    return n
                }
                if allowance > 0 {
                    let batch = (0..<allowance).map { k in (seq: UInt64(next + k + 1), envelope: messages[next + k]) }
                    try writer.send(batch)
                    next += allowance
                }
                let done = sender.state.withLock { $0.acked >= UInt64(messages.count) || $0.bye != nil }
                if done { break }
                guard let input = try await reader.next() else { break }
                if case let .line(.control(control)) = input {
                    sender.state.withLock { s in
                        switch control {
                        case let .credit(n): s.credit += n
                        case let .ack(seq): s.acked = max(s.acked, seq)
                        case let .nack(nack): s.nacked.append(nack)
                        case let .bye(bye): s.bye = bye
                        default: break
                        }
                    }
                }
            }
            if sender.state.withLock({ $0.bye == nil }) { try? writer.send(.drain) }
            return sender.state.withLock { ($0.acked, $0.nacked, $0.bye) }
        }
    }
}

/// An in-process downstream: listens where a stage sends its outputs, acks everything, and
/// records what arrived. Can be stopped and started again to play a peer that dies.
public final class TestReceiver: Sendable {
    public let endpoint: Endpoint
    private let received = Mutex(Received())
    private let listener = Mutex<LinkListener?>(nil)
    private let connections = Mutex<[LineConnection]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Everything received so far (duplicates included).
    public var messages: [Envelope] { received.withLock { $0.messages } }

    /// Waits until what has arrived satisfies `condition`, checked now and on each arrival.
    /// - Returns: whether it held before `timeout` passed (or the task was cancelled).
    ///
    /// ```swift
    /// let arrived = await receiver.wait(timeout: .seconds(60)) { $0.count >= 20 }
    /// ```
    public func wait(timeout: Duration, until condition: @escaping @Sendable ([Envelope]) -> Bool) async -> Bool {
        let id = received.withLock { state -> Int in
            state.nextWaiter += 1
            return state.nextWaiter
        }
        return await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                await withTaskCancellationHandler {
                    await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
                        let now = self.received.withLock { state -> Bool? in
                            if condition(state.messages) { return true }
                            if Task.isCancelled { return false }
                            state.waiters[id] = (condition, continuation)
                            return nil
                        }
                        if let now { continuation.resume(returning: now) }
                    }
                } onCancel: {
                    self.received.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume(returning: false)
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)  // a deadline, not a poll: the waiter above ends it first
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || condition(self.messages)
        }
    }

    private func append(_ envelope: Envelope) {
        let satisfied = received.withLock { state -> [CheckedContinuation<Bool, Never>] in
            state.messages.append(envelope)
            let ready = state.waiters.filter { $0.value.condition(state.messages) }
            for id in ready.keys { state.waiters[id] = nil }
            return ready.values.map(\.continuation)
        }
        for continuation in satisfied { continuation.resume(returning: true) }
    }

    private struct Received {
        var messages: [Envelope] = []
        var waiters: [Int: (condition: @Sendable ([Envelope]) -> Bool, continuation: CheckedContinuation<Bool, Never>)] = [:]
        var nextWaiter = 0
    }

    /// Starts listening.
    public func start() async throws {
        let bound = try await LinkListener.bind(endpoint)
        listener.withLock { $0 = bound }
        let serving = Task<Void, Never> {
            try? await bound.serve { connection in
                self.connections.withLock { $0.append(connection) }
                try? await connection.run { reader, writer in
                    _ = try await Handshake(local: Hello(stage: "conformance-receiver", accepts: ["*"])).accept(&reader, writer)
                    try writer.send(.credit(1 << 20))
                    while let batch = try await reader.nextBatch() {
                        var last: UInt64?
                        for input in batch {
                            switch input {
                            case let .line(.data(envelope)):
                                self.append(envelope)
                                last = envelope.seq ?? last
                            case .line(.control(.drain)):
                                if let last { try writer.send(.ack(seq: last)) }
                                try writer.send(.bye(Bye()))
                                return
                            default: break
                            }
                        }
                        if let last { try writer.send(.ack(seq: last)) }
                    }
                }
            }
        }
        task.withLock { $0 = serving }
    }

    /// Stops listening and drops every connection, as a killed process would.
    public func stop() async {
        listener.withLock { $0 }?.close()
        for connection in connections.withLock({ $0 }) { connection.close() }
        connections.withLock { $0 = [] }
        let serving = task.withLock { $0 }
        serving?.cancel()
        await serving?.value
    }
}
