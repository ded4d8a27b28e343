import Foundation
import NIOCore
import NIOPosix
import RunnelProtocol
import RunnelStage
import Synchronization

/// Asks a supervisor's control socket (``ControlService``) one question.
///
/// ```swift
/// let reply = try await ControlClient.request(path, .status, timeout: .seconds(5))
/// guard case let .status(status) = reply else { … }
/// ```
public enum ControlClient {
    /// The longest reply line read (a status of many stages with capture logs is a few KiB).
    public static let maxReplyLength = 16 << 20

    /// Sends `request` and waits for the reply, all within `timeout`.
    /// - Returns: the reply, an ``ControlReply/error(_:code:)`` included (the caller decides
    ///   what a refusal means).
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` when no supervisor answers at `path` or it
    ///   closes without a reply, `DEADLINE_EXCEEDED` when it does not answer within `timeout`,
    ///   `DATA_LOSS` when the reply cannot be read.
    public static func request(
        _ path: String, _ request: ControlRequest, timeout: Duration = .seconds(10)
    ) async throws(RunnelError) -> ControlReply {
        let channel: NIOAsyncChannel<LineFrameDecoder.Frame, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(timeout))
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxReplyLength)))
                        return try NIOAsyncChannel<LineFrameDecoder.Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw RunnelError(.unavailable, "no supervisor answers at \(path) (is the pipeline running?)")
        }
        let expired = Atomic(false)
        let deadline = channel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            expired.store(true, ordering: .relaxed)
            channel.channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var line = (try? encoder.encode(request)) ?? Data()
        line.append(0x0A)
        let outcome: Result<ControlReply, RunnelError>
        do {
            outcome = try await channel.executeThenClose { inbound, outbound in
                try await outbound.write(ByteBuffer(bytes: line))
                for try await frame in inbound {
                    guard case let .line(bytes) = frame else {
                        return .failure(RunnelError(.dataLoss, "the supervisor at \(path) sent a reply over \(maxReplyLength) bytes"))
                    }
                    do {
                        return .success(try JSONDecoder().decode(ControlReply.self, from: Data(bytes.readableBytesView)))
                    } catch {
                        return .failure(RunnelError(.dataLoss, "the supervisor at \(path) sent an unreadable reply: \(error)"))
                    }
                }
                return .failure(closed(path, expired: expired.load(ordering: .relaxed), timeout))
            }
        } catch {
            throw closed(path, expired: expired.load(ordering: .relaxed), timeout)
        }
        return try outcome.get()
    }

    private static func closed(_ path: String, expired: Bool, _ timeout: Duration) -> RunnelError {
        expired
            ? RunnelError(.deadlineExceeded, "the supervisor at \(path) did not answer within \(TimeSpan(timeout))")
            : RunnelError(.unavailable, "the supervisor at \(path) closed the connection without answering")
    }
}
