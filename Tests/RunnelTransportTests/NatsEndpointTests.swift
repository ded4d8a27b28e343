import RunnelProtocol
import RunnelTransport
import Testing

@Suite("nats:// endpoints")
struct NatsEndpointTests {
    @Test("host, port, subject and the defaults")
    func defaults() throws {
        let endpoint = try NatsEndpoint(parsing: "nats://10.0.0.7:4223/pages.vi")
        #expect(endpoint.host == "10.0.0.7")
        #expect(endpoint.port == 4223)
        #expect(endpoint.subject == "pages.vi")
        #expect(endpoint.stream == "RUNNEL_pages_vi")
        #expect(endpoint.durable == nil)
        #expect(endpoint.ackWait == .seconds(30))
        #expect(!endpoint.memoryStorage)
        #expect(endpoint.serverURL == "nats://10.0.0.7:4223")
        #expect(try NatsEndpoint(parsing: "nats://queue/pages").port == 4222)
        #expect(try NatsEndpoint(parsing: "nats://[::1]:4300/pages").serverURL == "nats://[::1]:4300")
    }

    @Test("query options, and the description that gives them back")
    func options() throws {
        let text = "nats://127.0.0.1:4222/pages?ack_wait=2s&stream=PAGES&durable=parse-eu&storage=memory&max_ack_pending=500"
        let endpoint = try NatsEndpoint(parsing: text)
        #expect(endpoint.ackWait == .seconds(2))
        #expect(endpoint.stream == "PAGES")
        #expect(endpoint.durable == "parse-eu")
        #expect(endpoint.memoryStorage)
        #expect(endpoint.maxAckPending == 500)
        #expect(endpoint.description == text)
        #expect(try NatsEndpoint(parsing: "nats://h/p?ack_wait=250ms").ackWait == .milliseconds(250))
        #expect(try NatsEndpoint(parsing: "nats://h/p?ack_wait=1m").ackWait == .seconds(60))
        #expect(try NatsEndpoint(parsing: "nats://h/p?ack_wait=1.5").ackWait == .milliseconds(1500))
        #expect(try NatsEndpoint(parsing: "nats://h/p?ack_wait=1m30s").description == "nats://h:4222/p?ack_wait=1m30s")
    }

    @Test("Endpoint parses nats:// and counts it as carrying acks")
    func endpoint() throws {
        let endpoint = try Endpoint(parsing: "nats://127.0.0.1:4222/pages?ack_wait=2s")
        guard case let .nats(nats) = endpoint else {
            Issue.record("parsed as \(endpoint)")
            return
        }
        #expect(nats.subject == "pages")
        #expect(endpoint.isSocket)
        #expect(endpoint.description == "nats://127.0.0.1:4222/pages?ack_wait=2s")
    }

    @Test(
        "bad endpoints say what is wrong",
        arguments: [
            ("nats://127.0.0.1:4222", "needs a subject"),
            ("nats://127.0.0.1:4222/", "subject is empty"),
            ("nats://127.0.0.1:99999/pages", "port"),
            ("nats://:4222/pages", "host is missing"),
            ("nats://h/pages.*", "letters, digits"),
            ("nats://h/pages..vi", "empty token"),
            ("nats://h/pages?ack_wait=soon", "ack_wait"),
            ("nats://h/pages?ack_wait=10ms", "at least 100ms"),
            ("nats://h/pages?ack_wait=1e300", "ack_wait"),
            ("nats://h/pages?ack_wait=99999999999999999999s", "ack_wait"),
            ("nats://h/pages?stream=a.b", "stream name"),
            ("nats://h/pages?color=blue", "unknown option color"),
            ("nats://user:secret@h/pages", "credentials"),
        ])
    func invalid(text: String, hint: String) {
        do {
            _ = try Endpoint(parsing: text)
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains(hint), "\(error.message)")
        }
    }

    @Test("a refused endpoint's error hides the credentials in it")
    func credentialsHidden() {
        for (text, shown) in [
            ("nats://runnel:S3cret@127.0.0.1:1/pages", "nats://runnel:***@127.0.0.1:1/pages"),
            ("nats://S3cret@127.0.0.1:1/pages", "nats://***@127.0.0.1:1/pages"),
            ("nats://a:b@c:S3cret@h/pages?x=1", "nats://a:***@h/pages?x=1"),
        ] {
            do {
                _ = try Endpoint(parsing: text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(!error.message.contains("S3cret"), "\(error.message)")
                #expect(error.message.contains(shown), "\(error.message)")
            }
        }
        #expect(Endpoint.hidingCredentials("tcp://host:7400") == "tcp://host:7400")
        #expect(Endpoint.hidingCredentials("unix:/run/a@b.sock") == "unix:/run/a@b.sock")
    }

    @Test("stage names become consumer names")
    func consumerName() {
        #expect(NatsEndpoint.consumerName(for: "parse") == "parse")
        #expect(NatsEndpoint.consumerName(for: "my.stage x") == "my_stage_x")
    }
}
