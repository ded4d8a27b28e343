import ArgumentParser
import RunnelStage

struct Relay: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Pass every message on unchanged: the identity stage, for tests and benchmarks.",
        discussion: """
            Each output gets a new id, the input's id as parent, and the input's trace, meta and
            remaining deadline, like any stage's output.

              runnel cat log.jsonl.zst | runnel relay --zstd > copy.jsonl.zst

            \(pipeDeliveryHelp)
            """
    )

    @OptionGroup var runtime: StageOptions

    func run() async throws {
        try await runStage(RelayStage(), options: runtime)
    }
}
