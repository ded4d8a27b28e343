import Foundation
import RunnelProtocol
import RunnelTransport
import Testing

@testable import RunnelSupervisor

/// `links` in `[pipeline]`: Unix sockets by default, or JetStream work queues named after the
/// pipeline and its stages.
@Suite("Pipeline links")
struct PipelineLinksTests {
    /// A pipeline named `news` with `links` (if any) on line 3 and stages fetch, parse, store.
    static func file(links: String?, stages: [String] = ["fetch", "parse", "store"], extra: String = "") -> String {
        "[pipeline]\nname = \"news\"\n" + (links.map { "links = \"\($0)\"\n" } ?? "\n") + extra
            + "[source]\nurls = \"u\"\n" + stages.map { "[[stage]]\nname = \"\($0)\"\n" }.joined()
    }

    static func problems(_ text: String) -> [String] {
        PipelineDefinition.read(text: text, file: "p.toml").problems.map(\.description)
    }

    @Test("without links, or with links = \"unix\", the stages are linked by Unix sockets")
    func unixByDefault() throws {
        #expect(try PipelineDefinition(text: Self.file(links: nil), file: "p.toml").links == .unix)
        #expect(try PipelineDefinition(text: Self.file(links: PipelineDefaults.links), file: "p.toml").links == .unix)
    }

    @Test("nats://HOST:PORT: each stage reads PIPELINE.STAGE and writes the next stage's; the last writes to the supervisor")
    func natsWithThePipelinesName() throws {
        let pipeline = try PipelineDefinition(text: Self.file(links: "nats://127.0.0.1:4222"), file: "p.toml")
        let links = try #require(pipeline.natsLinks)
        #expect(links.prefix == "news")
        #expect(links.endpoint(into: "parse").description == "nats://127.0.0.1:4222/news.parse")
        #expect(links.endpoint(into: "parse").stream == "RUNNEL_news_parse")
        let placed = try pipeline.placement(on: nil)
        #expect(placed.runsSource)
        #expect(placed.stages.map { $0.listen?.description } == [
            "nats://127.0.0.1:4222/news.fetch", "nats://127.0.0.1:4222/news.parse", "nats://127.0.0.1:4222/news.store",
        ])
        #expect(placed.stages.map { $0.remoteTo?.description } == ["nats://127.0.0.1:4222/news.parse", "nats://127.0.0.1:4222/news.store", nil])
        #expect(placed.stages[1].peers == "← JetStream news.parse → JetStream news.store")
        #expect(placed.stages[2].peers == "← JetStream news.store → the supervisor")
    }

    @Test("a path is the prefix, and the query's options go to every link")
    func prefixAndOptions() throws {
        for url in ["nats://h:4222/crawl?ack_wait=1s&max_ack_pending=64", "nats://h/crawl?max_ack_pending=64&ack_wait=1s"] {
            let pipeline = try PipelineDefinition(text: Self.file(links: url), file: "p.toml")
            let links = try #require(pipeline.natsLinks)
            #expect(links.endpoint(into: "store").description == "nats://h:4222/crawl.store?ack_wait=1s&max_ack_pending=64")
        }
        let bare = try PipelineDefinition(text: Self.file(links: "nats://h:4222/?storage=memory"), file: "p.toml")
        #expect(bare.natsLinks?.endpoint(into: "fetch").description == "nats://h:4222/news.fetch?storage=memory")
    }

    @Test("a malformed links is refused at its line, with what to write")
    func malformed() {
        let cases: [(String, String)] = [
            ("nats://127.0.0.1:99999", "the port must be a number within 1…65535"),
            ("nats://h:4222?ack_wait=soon", "ack_wait must be a duration"),
            ("nats://h:4222/a..b", "empty token"),
            ("nats://h:4222?colour=red", "unknown option colour"),
            ("nats://h:4222?stream=S", "each link has its own stream and consumer"),
            ("nats://h:4222?durable=d", "each link has its own stream and consumer"),
            ("tcp://h:4222", "is not a kind of link"),
            ("sockets", "is not a kind of link"),
        ]
        for (url, words) in cases {
            let problems = Self.problems(Self.file(links: url))
            #expect(problems.count == 1, "\(url): \(problems)")
            #expect(problems.first?.hasPrefix("p.toml:3: key \"links\": ") == true, "\(url): \(problems)")
            #expect(problems.first?.contains(words) == true, "\(url): \(problems)")
            #expect(problems.first?.contains("links = \"") == true, "the fix shows a links line: \(problems)")
        }
        #expect(Self.problems("[pipeline]\nlinks = 4222\n[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n").first?.hasPrefix("p.toml:2: key \"links\"") == true)
    }

    @Test("stage names that make one stream, and [hosts], are refused with JetStream links")
    func conflicts() {
        let clash = Self.problems(Self.file(links: "nats://h:4222", stages: ["a.b", "a_b"]))
        #expect(clash.count == 1 && clash[0].contains("would share the JetStream stream RUNNEL_news_a_b"), "\(clash)")
        let hosts = """
            [pipeline]
            name = "news"
            links = "nats://h:4222"
            [source]
            urls = "u"
            [[stage]]
            name = "a"
            host = "x"
            [hosts.x]
            address = "10.0.0.1"
            """
        let problems = Self.problems(hosts)
        #expect(problems.count == 1 && problems[0].hasPrefix("p.toml:3: key \"links\": stages placed on [hosts]"), "\(problems)")
    }
}
