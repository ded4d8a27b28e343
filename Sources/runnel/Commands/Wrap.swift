import ArgumentParser
import RunnelStage

struct Wrap: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make any line filter a stage: one JSON line in, exactly one line out, in order.",
        discussion: """
            Starts COMMAND once and hands it each input message as a JSON line on its stdin; its \
            answer line is the output. A message (with type and body) goes on with a new id and \
            the input as parent; any other JSON value becomes the body under the input's type; \
            null or an empty line means no output. Inputs are acked as their answers arrive, so \
            the filter must answer every line and flush (jq: --unbuffered; Python: flush=True).

              runnel wrap -- jq -c --unbuffered '.body.title |= ascii_upcase'
              runnel wrap --listen fd:3 --to unix:/tmp/rn/next.sock -- python3 tag.py
            """
    )

    @OptionGroup var runtime: StageOptions

    @Argument(parsing: .postTerminator, help: "The filter and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        if command.isEmpty { throw ValidationError("give the filter after --, e.g. runnel wrap -- jq -c --unbuffered .") }
    }

    func run() async throws {
        try await runStage(WrapStage(command: command, maxLineBytes: runtime.stream.limits.maxLineBytes), options: runtime)
    }
}
