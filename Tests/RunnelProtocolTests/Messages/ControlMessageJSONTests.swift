import RunnelProtocol
import Testing

/// The control lines `Protocol/PROTOCOL.md` shows are exactly the ones Runnel writes, and every
/// one reads back as the same message.
@Suite("Control lines on the wire")
struct ControlMessageJSONTests {
    static let service = ServiceDefinition(
        name: "relay", summary: "Passes every message on unchanged.", accepts: ["*"], emits: ["*"],
        options: [.init(name: "to", type: "string", help: "Where to.")])

    static let lines: [(ControlMessage, String)] = [
        (
            .hello(Hello(stage: "parse", accepts: ["page.fetched"], emits: ["article.parsed"])),
            #"{"ctl":"hello","versions":[1],"stage":"parse","accepts":["page.fetched"],"emits":["article.parsed"]}"#
        ),
        (
            .hello(Hello(stage: "parse", nonce: "6f1c0e4b9a2d47c3b8e5f70a1d2c3b4e", proof: "ab12")),
            #"{"ctl":"hello","versions":[1],"stage":"parse","accepts":[],"emits":[],"nonce":"6f1c0e4b9a2d47c3b8e5f70a1d2c3b4e","proof":"ab12"}"#
        ),
        (.credit(256), #"{"ctl":"credit","n":256}"#),
        (.ack(seq: 1041), #"{"ctl":"ack","seq":1041}"#),
        (.nack(Nack(seq: 7, code: .unavailable, message: "draining")), #"{"ctl":"nack","seq":7,"code":14,"message":"draining"}"#),
        (.ping(id: "k17"), #"{"ctl":"ping","id":"k17"}"#),
        (.pong(id: "k17"), #"{"ctl":"pong","id":"k17"}"#),
        (.health(nil), #"{"ctl":"health"}"#),
        (.health(.notServing), #"{"ctl":"health","status":"NOT_SERVING"}"#),
        (.describe(nil), #"{"ctl":"describe"}"#),
        (
            .describe(service),
            #"{"ctl":"describe","service":{"name":"relay","summary":"Passes every message on unchanged.","accepts":["*"],"emits":["*"],"options":[{"name":"to","type":"string","help":"Where to."}],"version":1}}"#
        ),
        (.drain, #"{"ctl":"drain"}"#),
        (.bye(Bye()), #"{"ctl":"bye","code":0,"message":""}"#),
        (.bye(Bye(code: .unauthenticated, message: "bad proof")), #"{"ctl":"bye","code":16,"message":"bad proof"}"#),
    ]

    @Test("writes the documented line", arguments: lines)
    func writes(_ message: ControlMessage, _ line: String) {
        #expect(message.jsonLine == line)
    }

    @Test("reads back what it writes", arguments: lines)
    func reads(_ message: ControlMessage, _ line: String) throws {
        #expect(try WireLine(line: Array(line.utf8)) == .control(message))
    }

    @Test("a line with ctl is a control line whatever the key order")
    func keyOrder() throws {
        #expect(try WireLine(line: Array(#"{"id":"k18","ctl":"ping"}"#.utf8)) == .control(.ping(id: "k18")))
        #expect(try WireLine(line: Array(#"{"id":"k18","meta":7,"ctl":"pong"}"#.utf8)) == .control(.pong(id: "k18")))
        #expect(try WireLine(line: Array(#"{"type":"x","ctl":"drain","id":"d","body":{}}"#.utf8)) == .control(.drain))
    }

    @Test("hello reads one version given as v")
    func helloV() throws {
        let line = #"{"ctl":"hello","v":1,"stage":"send"}"#
        #expect(try WireLine(line: Array(line.utf8)) == .control(.hello(Hello(versions: [1], stage: "send"))))
    }
}
