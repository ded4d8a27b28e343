import NIOCore
import NIOSSL
import NIOTLS

/// Completes a promise when the TLS handshake on its channel is done, or fails it with what
/// went wrong, so a link can report a refused certificate before it says hello.
final class TLSHandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let promise: EventLoopPromise<Void>
    private var settled = false

    init(promise: EventLoopPromise<Void>) {
        self.promise = promise
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case TLSUserEvent.handshakeCompleted = event { settle(nil) }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        settle(error)
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        settle(NIOSSLError.uncleanShutdown)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        settle(ChannelError.ioOnClosedChannel)
    }

    private func settle(_ error: (any Error)?) {
        guard !settled else { return }
        settled = true
        if let error { promise.fail(error) } else { promise.succeed() }
    }
}

extension ChannelPipeline.SynchronousOperations {
    /// Adds TLS to a fresh channel: the NIOSSL handler, then a watcher of its handshake.
    /// - Returns: a future that completes when the handshake does.
    func addTLS(_ handler: NIOSSLHandler, eventLoop: any EventLoop) throws -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        try addHandler(handler)
        try addHandler(TLSHandshakeWatcher(promise: promise))
        return promise.futureResult
    }
}
