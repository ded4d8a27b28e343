import Testing

@testable import RunnelSupervisor

/// `runnel top`'s rates from two status snapshots, without a pipeline.
@Suite("Pipeline rates")
struct ControlRatesTests {
    static func snapshot(done: Int, outputs: Int, parse: (received: Int, emitted: Int, errors: Int, restarts: Int)?) -> PipelineStatus {
        var stages = [PipelineStatus.Stage(name: "source", state: "running", pids: [1])]
        if let parse {
            var stage = PipelineStatus.Stage(name: "parse", state: "running", pids: [2], restarts: parse.restarts)
            stage.received = parse.received
            stage.emitted = parse.emitted
            stage.errors = parse.errors
            stages.append(stage)
        }
        return PipelineStatus(pipeline: "news", pid: 1, done: done, total: 100, outputs: outputs, stages: stages)
    }

    @Test("rates are the increase over the interval, per second")
    func perSecond() {
        let rates = PipelineRates(
            from: Self.snapshot(done: 10, outputs: 8, parse: (100, 90, 1, 0)),
            to: Self.snapshot(done: 30, outputs: 28, parse: (300, 290, 5, 0)), over: .seconds(2))
        #expect(rates.intervalSeconds == 2)
        #expect(rates.donePerSecond == 10 && rates.outputsPerSecond == 10)
        let parse = rates.stages.first { $0.name == "parse" }
        #expect(parse == .init(name: "parse", receivedPerSecond: 100, emittedPerSecond: 100, errorsPerSecond: 2, restarts: 0))
        let source = rates.stages.first { $0.name == "source" }
        #expect(source?.receivedPerSecond == nil, "no counts, no rate")
    }

    @Test("a stage that restarted counts again from zero; restarts in between are counted")
    func restarted() {
        let rates = PipelineRates(
            from: Self.snapshot(done: 10, outputs: 8, parse: (500, 490, 3, 1)),
            to: Self.snapshot(done: 12, outputs: 9, parse: (20, 18, 0, 3)), over: .milliseconds(500))
        let parse = rates.stages.first { $0.name == "parse" }
        #expect(parse?.receivedPerSecond == 40 && parse?.emittedPerSecond == 36 && parse?.errorsPerSecond == 0)
        #expect(parse?.restarts == 2)
    }

    @Test("a stage missing from the first snapshot counts from zero; a zero interval gives zero rates")
    func edges() {
        let appeared = PipelineRates(
            from: Self.snapshot(done: 0, outputs: 0, parse: nil), to: Self.snapshot(done: 0, outputs: 0, parse: (10, 10, 0, 0)),
            over: .seconds(1))
        #expect(appeared.stages.last?.receivedPerSecond == 10)
        let instant = PipelineRates(
            from: Self.snapshot(done: 0, outputs: 0, parse: (0, 0, 0, 0)), to: Self.snapshot(done: 5, outputs: 5, parse: (10, 10, 0, 0)),
            over: .zero)
        #expect(instant.donePerSecond == 0 && instant.stages.last?.receivedPerSecond == 0)
    }
}
