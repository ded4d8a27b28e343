import RunnelTransport
import Testing

@testable import RunnelStage

@Suite("PullSize: how many messages a JetStream pull request asks for")
struct PullSizeTests {
    @Test("small messages: 16 until a size is known, then half the window, at most 256")
    func smallMessages() {
        var pull = PullSize(window: 1024, windowBytes: 16 << 20)
        #expect(pull.count == 16)
        #expect(pull.bytes == 8 << 20)
        pull.learn(Array(repeating: 230, count: 16))
        #expect(pull.count == 256)
        #expect(pull.bytes == 256 * 230)

        var narrow = PullSize(window: 100, windowBytes: 16 << 20)
        narrow.learn([230])
        #expect(narrow.count == 50)
    }

    @Test("large messages ask for about half the window's bytes, never fewer than one")
    func largeMessages() {
        var pull = PullSize(window: 1024, windowBytes: 16 << 20)
        pull.learn(Array(repeating: 200 << 10, count: 16))  // fetched pages of 200 KiB
        #expect(pull.count == 40)  // 8 MiB / 200 KiB
        #expect(pull.bytes == 40 * (200 << 10))

        var huge = PullSize(window: 1024, windowBytes: 16 << 20)
        huge.learn([40 << 20])
        #expect(huge.count == 1)
        #expect(huge.bytes == 8 << 20, "what is kept free for it is bounded by half the window's bytes")
    }

    @Test("the count follows the sizes as they change")
    func follows() {
        var pull = PullSize(window: 1024, windowBytes: 16 << 20)
        pull.learn([1 << 20])
        #expect(pull.count == 8)
        for _ in 0..<20 { pull.learn([200]) }
        #expect(pull.count == 256)
    }

    @Test("a window of one still fetches one at a time")
    func tinyWindow() {
        var pull = PullSize(window: 1, windowBytes: 1024)
        #expect(pull.count == 1)
        pull.learn([10])
        #expect(pull.count == 1)
        pull.learn([100_000])
        #expect(pull.count == 1)
        #expect(pull.bytes <= 512)
    }

    @Test("the window in force: 256 on a socket, 1,024 on a JetStream input, or what was set")
    func windowInForce() throws {
        var options = LinkRunner<RelayStage>.Options()
        options.listen = try Endpoint(parsing: "unix:/tmp/r.sock")
        #expect(options.windowInForce == 256)
        options.listen = try Endpoint(parsing: "nats://127.0.0.1:4222/pages")
        #expect(options.windowInForce == 1024)
        options.window = 64
        #expect(options.windowInForce == 64)
    }
}
