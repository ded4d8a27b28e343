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
            descriptor: .named("runnel_build_info", help: "Always 1: the runnel version and the protocol version it speaks."),
            labels: [("version", version), ("protocol", "\(Envelope.protocolVersion)")]
        ).set(to: 1)
        registry.makeGauge(descriptor: .named("runnel_pipeline_uptime_seconds", help: "Seconds since the supervisor started."), labels: pipelineLabel)
            .set(to: Double(uptimeSeconds))
        registry.makeGauge(
            descriptor: .named("runnel_pipeline_source_lines_done", help: "Source lines done end to end (the cursor)."), labels: pipelineLabel
        ).set(to: Double(done))
        registry.makeGauge(
            descriptor: .named("runnel_pipeline_source_lines", help: "Source lines in the input (0 when unknown)."), labels: pipelineLabel
        ).set(to: Double(total))
        registry.makeCounter(descriptor: .named("runnel_pipeline_outputs_total", help: "Lines the last stage wrote."), labels: pipelineLabel)
            .increment(by: Int64(clamping: max(outputs, 0)))

        for stage in stages {
            let labels = pipelineLabel + [("stage", stage.name)]
            func counter(_ name: String, _ help: String, _ value: Int?) {
                guard let value else { return }
                registry.makeCounter(descriptor: .named(name, help: help), labels: labels).increment(by: Int64(clamping: max(value, 0)))
            }
            func gauge(_ name: String, _ help: String, _ value: Int?) {
                guard let value else { return }
                registry.makeGauge(descriptor: .named(name, help: help), labels: labels).set(to: Double(value))
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
                    descriptor: .named(
                        "runnel_link_connections",
                        help: "Connections open on the stage's input (side=in) or output (side=out) link."),
                    labels: sideLabels
                ).set(to: Double(link.connections))
                registry.makeGauge(
                    descriptor: .named(
                        "runnel_link_credit_messages",
                        help: "Credit open on the link: granted to the senders (in) or by the next stage (out), not used yet."),
                    labels: sideLabels
                ).set(to: Double(link.credit))
                registry.makeGauge(
                    descriptor: .named(
                        "runnel_link_in_flight_messages",
                        help: "Messages on the link not acked yet: received and not acked (in), sent and not acked (out)."),
                    labels: sideLabels
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

extension MetricNameDescriptor {
    /// The descriptor of a metric whose full name is `name`: its last part (`seconds`, `total`,
    /// `info`, `messages`) as the unit, which swift-prometheus asks for apart, the rest as the
    /// metric's name. The emitted name is `name` as given.
    static func named(_ name: String, help: String) -> MetricNameDescriptor {
        guard let split = name.lastIndex(of: "_") else { return MetricNameDescriptor(metricName: name, unitName: "", helpText: help) }
        return MetricNameDescriptor(
            metricName: String(name[..<split]), unitName: String(name[name.index(after: split)...]), helpText: help)
    }
}
