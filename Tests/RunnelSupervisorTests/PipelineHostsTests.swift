import RunnelProtocol
import RunnelTransport
import Testing

@testable import RunnelSupervisor

@Suite("Pipeline files placing stages on hosts")
struct PipelineHostsTests {
    static let twoHosts = """
        [pipeline]
        name = "news"
        key_file = "runnel.key"

        [hosts.a]
        address = "10.0.0.1"
        [hosts.b]
        address = "10.0.0.2"
        bind = "0.0.0.0"

        [source]
        urls = "urls.txt"

        [[stage]]
        name = "fetch"
        host = "a"
        [[stage]]
        name = "parse"
        host = "b"
        port = 7001
        [[stage]]
        name = "enrich"
        host = "b"
        [[stage]]
        name = "store"
        host = "a"
        """

    @Test("each host runs its stages; links between hosts are TCP on the configured ports, local ones Unix sockets")
    func placement() throws {
        let pipeline = try PipelineDefinition(text: Self.twoHosts, file: "/srv/news.toml")
        #expect(pipeline.hosts.map(\.name) == ["a", "b"])
        #expect(pipeline.hosts[1].bind == "0.0.0.0")
        #expect(pipeline.keyFile == "runnel.key")

        let a = try pipeline.placement(on: "a")
        #expect(a.runsSource)
        #expect(a.stages.map(\.stage.name) == ["fetch", "store"])
        #expect(a.stages[0].listen == nil, "fetch's upstream, the source, is local")
        #expect(a.stages[0].remoteTo == .tcp(host: "10.0.0.2", port: 7001))
        #expect(a.stages[1].listen == .tcp(host: "10.0.0.1", port: 7403), "store: 7400 + its position")
        #expect(a.stages[1].remoteTo == nil && a.stages[1].isLast)
        #expect(a.stages[1].peers == "← enrich@b on tcp://10.0.0.1:7403")

        let b = try pipeline.placement(on: "b")
        #expect(!b.runsSource)
        #expect(b.stages.map(\.stage.name) == ["parse", "enrich"])
        #expect(b.stages[0].listen == .tcp(host: "0.0.0.0", port: 7001))
        #expect(b.stages[0].remoteTo == nil, "parse → enrich stays on b")
        #expect(b.stages[1].listen == nil)
        #expect(b.stages[1].remoteTo == .tcp(host: "10.0.0.1", port: 7403))
    }

    @Test("a [tls] section makes the links between hosts tls://")
    func tls() throws {
        let text = Self.twoHosts + "\n[tls]\ncert = \"b.pem\"\nkey = \"b.key\"\nca = \"ca.pem\"\nrequire_client_cert = true\n"
        let pipeline = try PipelineDefinition(text: text, file: "/srv/news.toml")
        #expect(pipeline.tls?.trustRoots == "ca.pem")
        #expect(pipeline.tls?.requireClientCertificate == true)
        #expect(try pipeline.placement(on: "a").stages[0].remoteTo == .tls(host: "10.0.0.2", port: 7001))
    }

    @Test("without [hosts] every stage runs here, linked by Unix sockets, and --host does not apply")
    func singleHost() throws {
        let pipeline = try PipelineDefinition(
            text: "[source]\nurls = \"u\"\n[[stage]]\nname = \"a\"\n[[stage]]\nname = \"b\"\n", file: "p.toml")
        let placed = try pipeline.placement(on: nil)
        #expect(placed.runsSource)
        #expect(placed.stages.allSatisfy { $0.listen == nil && $0.remoteTo == nil })
        #expect(throws: RunnelError.self) { try pipeline.placement(on: "a") }
    }

    @Test("--host must name a host of the file")
    func unknownRunHost() throws {
        let pipeline = try PipelineDefinition(text: Self.twoHosts, file: "news.toml")
        #expect(throws: RunnelError.self) { try pipeline.placement(on: nil) }
        do {
            _ = try pipeline.placement(on: "c")
            Issue.record("accepted --host c")
        } catch {
            #expect(error.message.contains("--host c: news.toml defines no such host (hosts: a, b)"), "\(error.message)")
        }
    }

    @Test(
        "errors name the line and the key",
        arguments: [
            ("[hosts.a]\naddress = \"1.2.3.4\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\nhost = \"c\"\n",
             "p.toml:7: key \"host\": unknown host \"c\" for stage x (hosts: a)"),
            ("[hosts.a]\nport = 1\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\nhost = \"a\"\n",
             "p.toml:2: key \"port\": unknown key in [hosts.a]"),
            ("[hosts.a]\nbind = \"0.0.0.0\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\nhost = \"a\"\n",
             "p.toml:1: key \"address\": [hosts.a] needs address"),
            ("[hosts.a]\naddress = \"1.2.3.4\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\n",
             "p.toml:5: key \"host\": stage x needs host"),
            ("[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\nhost = \"a\"\n",
             "p.toml:5: key \"host\": stage x names host \"a\" but there is no [hosts] section"),
            ("[hosts]\na = 1\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\n", "p.toml:2: key \"hosts.a\": expected a table"),
            ("[tls]\nrequire_client_cert = \"yes\"\n[source]\nurls = \"u\"\n[[stage]]\nname = \"x\"\n",
             "p.toml:2: key \"require_client_cert\": expected true or false"),
        ])
    func errors(text: String, expected: String) {
        do {
            _ = try PipelineDefinition(text: text, file: "p.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }
}
