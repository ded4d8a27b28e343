import NIOCore
import ServiceLifecycle
import Synchronization

/// The open connections of a server (the control socket, the metrics endpoint): how many, which are answering a request, and whether the
/// service is shutting down (then idle ones are closed, busy ones after their reply).
final class ConnectionTable: Sendable {
    private struct State {
        var open: [Int: (channel: any Channel, busy: Bool)] = [:]
        var next = 0
        var shuttingDown = false
    }

    private let state = Mutex(State())
    let limit: Int

    init(limit: Int) {
        self.limit = limit
    }

    var isShuttingDown: Bool { state.withLock { $0.shuttingDown } }

    /// Registers a connection; `nil` when there are too many or the service is shutting down.
    func open(_ channel: any Channel) -> Int? {
        state.withLock { s -> Int? in
            guard !s.shuttingDown, s.open.count < limit else { return nil }
            s.next += 1
            s.open[s.next] = (channel, false)
            return s.next
        }
    }

    func close(_ id: Int) {
        state.withLock { _ = $0.open.removeValue(forKey: id) }
    }

    /// Marks a request begun; false when the service is shutting down.
    func begin(_ id: Int) -> Bool {
        state.withLock { s in
            guard !s.shuttingDown else { return false }
            s.open[id]?.busy = true
            return true
        }
    }

    /// Marks a request answered; false when the service is shutting down (close now).
    func end(_ id: Int) -> Bool {
        state.withLock { s in
            s.open[id]?.busy = false
            return !s.shuttingDown
        }
    }

    /// Accepts `server`'s connections and runs `serve` for each, until graceful shutdown or
    /// cancellation closes the server: then idle connections are closed, busy ones after their
    /// reply, and connections accepted but not yet served are still handed to `serve` (which
    /// finds ``open(_:)`` refusing them): every `NIOAsyncChannel` is closed by its
    /// `executeThenClose`, none is dropped.
    func serve<Inbound: Sendable, Outbound: Sendable>(
        _ server: NIOAsyncChannel<NIOAsyncChannel<Inbound, Outbound>, Never>,
        _ serve: @escaping @Sendable (NIOAsyncChannel<Inbound, Outbound>) async -> Void
    ) async {
        // The accepting runs in a task of its own, which cancellation does not reach: a
        // cancelled iteration would drop the connections accepted but not yet taken.
        let accepting = Task {
            await withDiscardingTaskGroup { group in
                try? await server.executeThenClose { inbound in
                    for try await connection in inbound {
                        group.addTask { await serve(connection) }
                    }
                }
            }
        }
        let stop: @Sendable () -> Void = { [self] in
            server.channel.close(promise: nil)
            shutDown()
        }
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                await accepting.value
            } onGracefulShutdown: {
                stop()
            }
        } onCancel: {
            stop()
        }
    }

    func shutDown() {
        let idle = state.withLock { s -> [any Channel] in
            s.shuttingDown = true
            return s.open.values.filter { !$0.busy }.map(\.channel)
        }
        for channel in idle { channel.close(promise: nil) }
    }
}

/// Closes a connection that has read nothing for the ``IdleStateHandler``'s read timeout.
final class CloseWhenIdle: ChannelInboundHandler, Sendable {
    typealias InboundIn = NIOAny

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }
}
