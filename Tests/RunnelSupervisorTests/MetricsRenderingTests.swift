import Foundation
import RunnelProtocol
import RunnelStage
import Testing

@testable import RunnelSupervisor

/// `GET /metrics`' text, from a status, without a socket.
@Suite("Prometheus rendering")
struct MetricsRenderingTests {
    static func status() -> PipelineStatus {
        var statistics = StageStatistics()
        statistics.received = 10
        statistics.emitted = 9
        statistics.retried = 2
        statistics.failed = [.notFound: 1]
        statistics.inFlight = 3
        statistics.latency.record(.milliseconds(4))
        statistics.latency.record(.milliseconds(40))
        statistics.links = [
            LinkStatistics(side: .input, connections: 1, credit: 250, inFlight: 6),
            LinkStatistics(side: .output, connections: 1, credit: 17, inFlight: 239),
        ]
        return PipelineStatus(
            pipeline: "news \"x\"", pid: 1, uptimeSeconds: 5, done: 7, total: 20, outputs: 6,
            stages: [
                .init(name: "source", state: "running", pids: [10]),
                .init(name: "parse", state: "running", pids: [11, 12], restarts: 1, statistics: statistics),
            ])
    }

    @Test("names: _total on counters only, base units, build info, escaped labels")
    func names() throws {
        let text = Self.status().prometheusText(version: "1.2.3")
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.contains(#"runnel_build_info{version="1.2.3",protocol="\#(Envelope.protocolVersion)"} 1.0"#), "\(text)")
        #expect(lines.contains("# HELP runnel_build_info Always 1: the runnel version and the protocol version it speaks."), "\(text)")
        #expect(lines.contains("# HELP runnel_stage_restarts_total Restarts of the stage by the supervisor."), "\(text)")
        #expect(lines.contains { $0.hasPrefix("# HELP runnel_link_credit_messages Credit open on the link") }, "\(text)")
        var types: [String: String] = [:]
        for line in lines where line.hasPrefix("# TYPE ") {
            let parts = line.split(separator: " ")
            types[String(parts[2])] = String(parts[3])
        }
        #expect(!types.isEmpty)
        for (name, type) in types {
            #expect(name.hasPrefix("runnel_"), "\(name)")
            #expect(name.hasSuffix("_total") == (type == "counter"), "\(name) is a \(type)")
            #expect(!name.contains("_ms") && !name.contains("milli"), "\(name): base units")
        }
        #expect(types["runnel_stage_latency_seconds"] == "histogram")
        #expect(types["runnel_stage_messages_received_total"] == "counter")
        #expect(types["runnel_stage_in_flight_messages"] == "gauge")
        #expect(types["runnel_pipeline_source_lines_done"] == "gauge")
        #expect(types["runnel_link_credit_messages"] == "gauge")
        #expect(types["runnel_link_in_flight_messages"] == "gauge")
        // Every sample line belongs to a declared family.
        for line in lines where !line.hasPrefix("#") {
            let name = String(line.prefix { $0 != "{" && $0 != " " })
            let family = ["_bucket", "_sum", "_count"].reduce(name) { $0.hasSuffix($1) && types[$0] == nil ? String($0.dropLast($1.count)) : $0 }
            #expect(types[family] != nil, "\(line)")
        }
        #expect(text.contains(#"runnel_stage_messages_received_total{pipeline="news \"x\"",stage="parse"} 10"#), "\(text)")
        #expect(text.contains(#"runnel_stage_up{pipeline="news \"x\"",stage="parse"} 2.0"#), "\(text)")
        #expect(text.contains(#"runnel_stage_restarts_total{pipeline="news \"x\"",stage="parse"} 1"#), "\(text)")
        #expect(!text.contains(#"runnel_stage_messages_received_total{pipeline="news \"x\"",stage="source"}"#), "no counts without a statistics file")
    }

    @Test("the latency histogram is cumulative, ends with +Inf, and has its sum and count")
    func histogram() {
        let text = Self.status().prometheusText(version: "1")
        let prefix = #"runnel_stage_latency_seconds_bucket{pipeline="news \"x\"",stage="parse","#
        #expect(text.contains(prefix + #"le="0.001"} 0"#), "\(text)")
        #expect(text.contains(prefix + #"le="0.005"} 1"#))
        #expect(text.contains(prefix + #"le="0.05"} 2"#))
        #expect(text.contains(prefix + #"le="+Inf"} 2"#))
        #expect(text.contains(#"runnel_stage_latency_seconds_count{pipeline="news \"x\"",stage="parse"} 2"#))
        #expect(text.contains(#"runnel_stage_latency_seconds_sum{pipeline="news \"x\"",stage="parse"} 0.04"#))
    }

    @Test("each side of a stage's links has its credit, messages in flight and connections")
    func links() throws {
        let text = Self.status().prometheusText(version: "1")
        let parse = #"pipeline="news \"x\"",stage="parse""#
        #expect(text.contains("runnel_link_credit_messages{\(parse),side=\"in\"} 250.0"), "\(text)")
        #expect(text.contains("runnel_link_in_flight_messages{\(parse),side=\"in\"} 6.0"), "\(text)")
        #expect(text.contains("runnel_link_credit_messages{\(parse),side=\"out\"} 17.0"), "\(text)")
        #expect(text.contains("runnel_link_in_flight_messages{\(parse),side=\"out\"} 239.0"), "\(text)")
        #expect(text.contains("runnel_link_connections{\(parse),side=\"out\"} 1.0"), "\(text)")
        #expect(!text.contains(#"runnel_link_credit_messages{pipeline="news \"x\"",stage="source""#), "no link samples without a statistics file")
        // The statistics file carries them, and a count below zero is refused.
        let statistics = try #require(Self.status().stages[1].statistics)
        let data = try StageStatistics.fileEncoder.encode(statistics)
        #expect(try JSONDecoder().decode(StageStatistics.self, from: data).links.count == 2)
        let negative = Data(#"{"links":[{"side":"in","connections":1,"credit":-1,"in_flight":0}]}"#.utf8)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(StageStatistics.self, from: negative) }
    }
}
