import Foundation
import RunnelProtocol
import RunnelStage
import Testing

@testable import RunnelSupervisor

/// The control socket's wire forms: requests, replies, the status and a stage's statistics file.
@Suite("Control wire forms")
struct ControlWireTests {
    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    @Test("requests encode and decode as {\"op\":…} lines")
    func requests() throws {
        let cases: [(ControlRequest, String)] = [
            (.ping, #"{"op":"ping"}"#), (.status, #"{"op":"status"}"#), (.stop, #"{"op":"stop"}"#),
            (.restart(stage: "parse"), #"{"op":"restart","stage":"parse"}"#), (.tap(stage: "fetch"), #"{"op":"tap","stage":"fetch"}"#),
        ]
        for (request, line) in cases {
            #expect(try Self.json(request) == line)
            #expect(try JSONDecoder().decode(ControlRequest.self, from: Data(line.utf8)) == request)
            #expect(try ControlRequest(line: Array(line.utf8)) == request)
        }
    }

    @Test("a bad request line says what is wrong with it", arguments: [
        ("not json", "one JSON object"), (#"{"stage":"x"}"#, "needs an op"), (#"{"op":"reboot"}"#, "unknown request reboot"),
        (#"{"op":"restart"}"#, "restart needs a stage"), (#"{"op":"tap","stage":""}"#, "tap needs a stage"), ("[1]", "one JSON object"),
    ])
    func badRequests(line: String, message: String) {
        let error = #expect(throws: RunnelError.self) { try ControlRequest(line: Array(line.utf8)) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(message) == true, "\(error?.message ?? "")")
    }

    @Test("replies encode to the documented objects and decode back")
    func replies() throws {
        #expect(try Self.json(ControlReply.ok) == #"{"ok":true}"#)
        #expect(try Self.json(ControlReply.error("no stage named x", code: .notFound)) == #"{"code":5,"error":"no stage named x"}"#)
        let tap = ControlReply.tap(.init(stage: "parse", state: "running", sockets: ["/run/p/parse.tap.1.sock"]))
        #expect(try Self.json(tap) == #"{"sockets":["/run/p/parse.tap.1.sock"],"stage":"parse","state":"running"}"#)
        let status = ControlReply.status(PipelineStatus(pipeline: "news", pid: 7, stages: [.init(name: "source", state: "running")]))
        for reply in [ControlReply.ok, .error("x", code: .unavailable), tap, status] {
            #expect(try JSONDecoder().decode(ControlReply.self, from: Data(try Self.json(reply).utf8)) == reply)
        }
        // An older supervisor's error has no code.
        #expect(try JSONDecoder().decode(ControlReply.self, from: Data(#"{"error":"no stage named x"}"#.utf8)) == .error("no stage named x", code: .invalidArgument))
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(ControlReply.self, from: Data(#"{"ok":false}"#.utf8)) }
    }

    /// What the supervisor's old `[String: Any]` status looked like (JSONSerialization, sorted keys).
    static let oldStatus = #"""
        {"done":12,"host":"","outputs":9,"pid":4242,"pipeline":"news","stages":[
          {"last_status":"exited 0","name":"source","pids":[],"restarts":0,"state":"done","uptime_s":0},
          {"capture":[{"bytes":2048,"direction":"out","dropped":0,"file":"parse-enrich.jsonl.zst","files":1,"log":"parse-enrich.jsonl.zst","messages":12}],
           "errors":1,"in":13,"in_flight":2,"name":"parse","out":12,"pids":[4301,4302],"restarts":1,"state":"running","uptime_s":33,
           "peers":"unix:enrich.sock"}
        ],"total":40,"uptime_s":61}
        """#

    @Test("the old status dictionary decodes into PipelineStatus")
    func oldStatusDecodes() throws {
        let reply = try JSONDecoder().decode(ControlReply.self, from: Data(Self.oldStatus.utf8))
        guard case let .status(status) = reply else {
            Issue.record("not a status: \(reply)")
            return
        }
        #expect(status.pipeline == "news" && status.pid == 4242 && status.uptimeSeconds == 61)
        #expect(status.done == 12 && status.total == 40 && status.outputs == 9)
        #expect(status.stages.map(\.name) == ["source", "parse"])
        let parse = status.stages[1]
        #expect(parse.pids == [4301, 4302] && parse.restarts == 1 && parse.uptimeSeconds == 33)
        #expect(parse.received == 13 && parse.emitted == 12 && parse.inFlight == 2 && parse.errors == 1)
        #expect(parse.capture?.first?.messages == 12 && parse.peers == "unix:enrich.sock")
        #expect(status.stages[0].lastStatus == "exited 0" && status.stages[0].received == nil)
        // And it encodes back under the same keys.
        let again = try JSONSerialization.jsonObject(with: Data(try Self.json(status).utf8)) as? [String: Any]
        let stages = again?["stages"] as? [[String: Any]]
        #expect(again?["uptime_s"] as? Int == 61)
        #expect(stages?[1]["in"] as? Int == 13 && stages?[1]["in_flight"] as? Int == 2 && stages?[0]["last_status"] as? String == "exited 0")
    }

    @Test("a stage's statistics file keeps its keys; an older file decodes; bad counts are refused")
    func statisticsFile() throws {
        var statistics = StageStatistics()
        statistics.stage = "parse"
        statistics.received = 3
        statistics.emitted = 2
        statistics.failed = [.invalidArgument: 1]
        statistics.inFlight = 1
        statistics.latency.record(.milliseconds(3))
        let data = try StageStatistics.fileEncoder.encode(statistics)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        for key in ["stage", "received", "emitted", "retried", "failed", "in_flight", "draining", "capture", "latency_seconds"] {
            #expect(object[key] != nil, "\(key)")
        }
        #expect((object["failed"] as? [String: Int]) == ["INVALID_ARGUMENT": 1])
        #expect(try JSONDecoder().decode(StageStatistics.self, from: data) == statistics)

        let old = #"{"capture":[],"draining":false,"emitted":5,"failed":{"NOT_FOUND":2},"in_flight":0,"received":7,"retried":1,"stage":"fetch","updated":"2026-12-04T16:00:00.000Z"}"#
        let decoded = try JSONDecoder().decode(StageStatistics.self, from: Data(old.utf8))
        #expect(decoded.received == 7 && decoded.failed == [.notFound: 2] && decoded.latency.count == 0)
        for bad in [#"{"received":-1}"#, #"{"failed":{"NOPE":1}}"#, #"{"received":1e30}"#] {
            #expect(throws: DecodingError.self, "\(bad)") { try JSONDecoder().decode(StageStatistics.self, from: Data(bad.utf8)) }
        }
    }

    @Test("the latency histogram counts cumulatively and refuses what is not a histogram")
    func histogram() throws {
        var latency = LatencyHistogram()
        latency.record(.microseconds(500))
        latency.record(.milliseconds(20))
        latency.record(.seconds(100))
        let index = { (bound: Double) in LatencyHistogram.bounds.firstIndex(of: bound)! }
        #expect(latency.cumulativeCounts[index(0.001)] == 1)
        #expect(latency.cumulativeCounts[index(0.01)] == 1)
        #expect(latency.cumulativeCounts[index(0.025)] == 2)
        #expect(latency.cumulativeCounts.last == 2 && latency.count == 3)
        #expect(abs(latency.sum - 100.0205) < 1e-9)
        let bad = [
            #"{"le":[1,0.5],"buckets":[0,0],"count":0,"sum":0}"#, #"{"le":[1],"buckets":[0,0],"count":0,"sum":0}"#,
            #"{"le":[1,2],"buckets":[2,1],"count":2,"sum":0}"#, #"{"le":[1],"buckets":[3],"count":2,"sum":0}"#,
            #"{"le":[1],"buckets":[0],"count":0,"sum":-1}"#,
        ]
        for text in bad {
            #expect(throws: DecodingError.self, "\(text)") { try JSONDecoder().decode(LatencyHistogram.self, from: Data(text.utf8)) }
        }
    }
}
