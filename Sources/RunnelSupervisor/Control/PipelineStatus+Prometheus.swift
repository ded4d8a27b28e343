import Foundation
import Prometheus
import RunnelProtocol
import RunnelStage

extension PipelineStatus {
    /// The status in the Prometheus text format, as `GET /metrics` serves it.
    ///
    /// Names follow Prometheus' conventions: `_total` on counters only, base units (seconds),
    /// `runnel_build_info` with the version and the protocol version. Every sample has the label
    /// `pipeline`, per-stage samples also `stage`, per-link samples also `side` (`in` or `out`). Counters and gauges are rendered by
    /// swift-prometheus' ``PrometheusCollectorRegistry``; the latency histogram is rendered here in
    /// the same format, because swift-prometheus' histograms take observations one by one and the
    /// buckets come already counted from each stage's statistics file.
    ///
    /// A stage's counters start again from zero when it restarts (a counter reset, which
    /// Prometheus' `rate()` allows for).
    ///
    /// - Parameter version: the `runnel` version for `runnel_build_info`.
    public func prometheusText(version: String) -> String {
        let registry = PrometheusCollectorRegistry()
        let pipelineLabel = [("pipeline", pipeline)]
        registry.makeGauge(
            name: "runnel_build_info", labels: [("version", version), ("protocol", "\(Envelope.protocolVersion)")],
            help: "Always 1: the runnel version and the protocol version it speaks."
        ).set(to: 1)
        registry.makeGauge(name: "runnel_pipeline_uptime_seconds", labels: pipelineLabel, help: "Seconds since the supervisor started.")
            .set(to: Double(uptimeSeconds))
        registry.makeGauge(
            name: "runnel_pipeline_source_lines_done", labels: pipelineLabel, help: "Source lines done end to end (the cursor)."
        ).set(to: Double(done))
        registry.makeGauge(
            name: "runnel_pipeline_source_lines", labels: pipelineLabel, help: "Source lines in the input (0 when unknown)."
        ).set(to: Double(total))
        registry.makeCounter(name: "runnel_pipeline_outputs_total", labels: pipelineLabel, help: "Lines the last stage wrote.")
            .increment(by: Int64(clamping: max(outputs, 0)))

        for stage in stages {
            let labels = pipelineLabel + [("stage", stage.name)]
            func counter(_ name: String, _ help: String, _ value: Int?) {
                guard let value else { return }
                registry.makeCounter(name: name, labels: labels, help: help).increment(by: Int64(clamping: max(value, 0)))
            }
            func gauge(_ name: String, _ help: String, _ value: Int?) {
                guard let value else { return }
                registry.makeGauge(name: name, labels: labels, help: help).set(to: Double(value))
            }
            gauge("runnel_stage_up", "Processes running for the stage.", stage.pids.count)
            gauge("runnel_stage_uptime_seconds", "Seconds since the stage was (re)started; 0 while it is down.", stage.uptimeSeconds)
            counter("runnel_stage_restarts_total", "Restarts of the stage by the supervisor.", stage.restarts)
            counter("runnel_stage_messages_received_total", "Messages the stage received.", stage.received)
            counter("runnel_stage_messages_emitted_total", "Messages the stage emitted.", stage.emitted)
            counter("runnel_stage_errors_total", "Messages the stage failed (dead-lettered).", stage.errors)
            counter("runnel_stage_retries_total", "Retries the stage made.", stage.statistics?.retried)
            gauge("runnel_stage_in_flight_messages", "Messages taken in by the stage and not processed yet.", stage.inFlight)
            for link in stage.statistics?.links ?? [] {
                let sideLabels = labels + [("side", link.side.rawValue)]
                registry.makeGauge(
                    name: "runnel_link_connections", labels: sideLabels,
                    help: "Connections open on the stage's input (side=in) or output (side=out) link."
                ).set(to: Double(link.connections))
                registry.makeGauge(
                    name: "runnel_link_credit_messages", labels: sideLabels,
                    help: "Credit open on the link: granted to the senders (in) or by the next stage (out), not used yet."
                ).set(to: Double(link.credit))
                registry.makeGauge(
                    name: "runnel_link_in_flight_messages", labels: sideLabels,
                    help: "Messages on the link not acked yet: received and not acked (in), sent and not acked (out)."
                ).set(to: Double(link.inFlight))
            }
        }
        var text = String(decoding: registry.emitToBuffer(), as: UTF8.self)
        text += latencyText()
        return text
    }

    /// `runnel_stage_latency_seconds`: a histogram per stage that wrote one.
    private func latencyText() -> String {
        let histograms = stages.compactMap { stage in stage.statistics.map { (stage.name, $0.latency) } }
        guard !histograms.isEmpty else { return "" }
        let name = "runnel_stage_latency_seconds"
        var text = "# HELP \(name) Seconds from a message's arrival at the stage until its outputs were ready.\n"
        text += "# TYPE \(name) histogram\n"
        for (stage, histogram) in histograms {
            let labels = "pipeline=\"\(Self.escape(pipeline))\",stage=\"\(Self.escape(stage))\""
            for (bound, count) in zip(histogram.le, histogram.cumulativeCounts) {
                text += "\(name)_bucket{\(labels),le=\"\(Self.format(bound))\"} \(count)\n"
            }
            text += "\(name)_bucket{\(labels),le=\"+Inf\"} \(histogram.count)\n"
            text += "\(name)_sum{\(labels)} \(Self.format(histogram.sum))\n"
            text += "\(name)_count{\(labels)} \(histogram.count)\n"
        }
        return text
    }

    /// A label value with `\`, `"` and newlines escaped.
    static func escape(_ value: String) -> String {
        value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n")
    }

    /// `0.005`, `1`, `30`.
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
    }
}
