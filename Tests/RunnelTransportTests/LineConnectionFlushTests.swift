import Foundation
import NIOCore
import NIOPosix
import RunnelProtocol
import Testing

@testable import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

@Suite("What a connection writes after its work is done")
struct LineConnectionFlushTests {
    /// Before session 47 a connection whose peer stopped reading stayed open for as long as the
    /// peer lived once its body was done: the last writes waited on the socket with no deadline.
    @Test("a peer that stops reading cannot hold a finished connection open past the flush timeout", .timeLimit(.minutes(1)))
    func peerThatStopsReading() async throws {
        var fds: [Int32] = [0, 0]
        try #require(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        defer { close(fds[1]) }  // the peer: open, and never read
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).withConnectedSocket(fds[0]) { channel in
            channel.eventLoop.makeCompletedFuture {
                try LineConnection.Channel(wrappingChannelSynchronously: channel, configuration: LineConnection.configuration)
            }
        }
        let connection = LineConnection(channel: channel)
        var random = SystemRandomNumberGenerator()
        let start = ContinuousClock.now
        try await connection.run(flushTimeout: .milliseconds(200)) { _, writer in
            // About 8 MB that does not compress: far more than the socket's buffers hold.
            for i in 0..<40 {
                let words = (0..<16_384).map { _ in String(UInt64.random(in: 0...UInt64.max, using: &random), radix: 36) }
                let body = try RawJSON("{\"text\":\"\(words.joined(separator: " "))\"}")
                try writer.send([.data(Envelope(id: "m\(i)", type: "t", body: body))])
            }
        }
        #expect(start.duration(to: .now) < .seconds(30))
    }
}
