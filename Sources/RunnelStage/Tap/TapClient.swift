import Foundation
import NIOCore
import NIOPosix
import RunnelProtocol

/// Watches one stage process's tap (``TapPoint``): sends the request line and hands on what
/// comes back, for `runnel tap` and tests.
///
/// ```swift
/// try await TapClient.watch(path, sides: [.outputs]) { event in
///     if case let .message(line) = event { print(String(decoding: line, as: UTF8.self)) }
///     return true  // go on
/// }
/// ```
public enum TapClient {
    /// What a tap says.
    public enum Event: Sendable, Equatable {
        /// The stage took the request; copies follow.
        case ready
        /// A copy of a message, as a JSON line without its newline.
        case message([UInt8])
        /// This many lines were dropped for this tapper since it connected.
        case dropped(Int)
        /// The stage closed the tap, and why.
        case bye(StatusCode, String)
    }

    /// Connects to the tap at `path` and calls `handle` with each event until the tap closes,
    /// `handle` returns false, or the task is cancelled.
    /// - Parameters:
    ///   - types: message types to copy; empty: all.
    ///   - maxLineLength: the longest line read (a message can be as long as a link allows).
    /// - Throws: ``RunnelError`` with `UNAVAILABLE` when nothing listens at `path`; what
    ///   `handle` throws.
    public static func watch(
        _ path: String, sides: Set<TapPoint.Side>, types: Set<String> = [], maxLineLength: Int = Limits().maxLineBytes,
        connectTimeout: Duration = .seconds(5), _ handle: (Event) async throws -> Bool
    ) async throws {
        let channel: NIOAsyncChannel<LineFrameDecoder.Frame, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .connectTimeout(TimeAmount(connectTimeout))
                .connect(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maxLength: maxLineLength)))
                        return try NIOAsyncChannel<LineFrameDecoder.Frame, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        } catch {
            throw RunnelError(.unavailable, "cannot connect to the tap at \(path): \(error)")
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var request = try encoder.encode(TapRequest(sides: sides, types: types))
        request.append(0x0A)
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(bytes: request))
            for try await frame in inbound {
                guard case let .line(line) = frame else {
                    _ = try await handle(.bye(.resourceExhausted, "a line longer than \(maxLineLength) bytes"))
                    return
                }
                let bytes = Array(line.readableBytesView)
                if !(try await handle(Self.event(bytes))) { return }
            }
        }
    }

    /// A tap line as an event: a `ctl` line it knows, or a message.
    static func event(_ line: [UInt8]) -> Event {
        guard line.starts(with: Array(#"{"ctl":"#.utf8)) else { return .message(line) }
        guard let control = try? JSONDecoder().decode(TapControlLine.self, from: Data(line)) else { return .message(line) }
        switch control.ctl {
        case "tap-ready": return .ready
        case "tap-dropped": return .dropped(max(control.dropped ?? 0, 0))
        case "bye": return .bye(control.code.flatMap(StatusCode.init(rawValue:)) ?? .unknown, control.message ?? "")
        default: return .message(line)
        }
    }
}

/// The members of a tap's `ctl` lines.
private struct TapControlLine: Decodable {
    var ctl: String
    var dropped: Int?
    var code: Int?
    var message: String?
}
