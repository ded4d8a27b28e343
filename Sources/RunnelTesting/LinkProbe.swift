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
    /// `timeout` passes. Extra `rawLines` (not JSON, say) are sent first, to test refusals.
    /// - Parameter ignoringCredit: misbehave: send every message at once, whatever credit the
    ///   stage granted (a receiver must end such a link with `bye` `RESOURCE_EXHAUSTED`).
    /// - Returns: the highest seq acked, the nacks, and the `bye` the stage sent, if any.
    public static func send(
        _ messages: [Envelope], rawLines: [String] = [], to endpoint: Endpoint, key: SharedKey? = nil,
        emits: [String] = ["*"], timeout: Duration = .seconds(20), ignoringCredit: Bool = false
    ) async throws -> (acked: UInt64, nacks: [Nack], bye: Bye?) {
        let connection = try await LineConnection.connect(to: endpoint)
        let sender = TestSender(connection: connection)
        return try await connection.run { reader, writer in
            _ = try await Handshake(local: Hello(stage: "conformance-sender", emits: emits), key: key)
                .connect(&reader, writer)
            if !rawLines.isEmpty { try writer.sendRaw(rawLines) }
            var next = 0
            if ignoringCredit {
                try writer.send(messages.enumerated().map { (seq: UInt64($0.offset + 1), envelope: $0.element) })
                next = messages.count
            }
            let deadline = ContinuousClock.now + timeout
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
    private let received = Mutex<[Envelope]>([])
    private let listener = Mutex<LinkListener?>(nil)
    private let connections = Mutex<[LineConnection]>([])
    private let task = Mutex<Task<Void, Never>?>(nil)

    public init(endpoint: Endpoint) {
        self.endpoint = endpoint
    }

    /// Everything received so far (duplicates included).
    public var messages: [Envelope] { received.withLock { $0 } }

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
                                self.received.withLock { $0.append(envelope) }
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
