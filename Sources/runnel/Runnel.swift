import ArgumentParser
import RunnelProtocol

@main
struct Runnel: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "runnel",
        abstract: "A message-pipeline worker for news pages.",
        discussion: """
            Stages exchange zstd-compressed JSON lines. Every stage is also a stdin→stdout \
            filter:

              runnel fetch < urls.txt | runnel parse \\
                | runnel enrich | runnel store --db news.sqlite

            Inspect any link or log:

              runnel cat capture.jsonl.zst --type page.fetched | jq .body.url
              runnel validate capture.jsonl.zst

            The protocol is specified in Protocol/PROTOCOL.md.

            Exit status (sysexits; an error's status code decides, and its place: a line \
            or byte of the input, a pipeline file, or the command line):

            """ + ExitStatus.table,
        version: "runnel \(version) (protocol v\(Envelope.protocolVersion))",
        subcommands: [
            Run.self, Status.self, Top.self, Restart.self, Stop.self,
            Fetch.self, Parse.self, Enrich.self, Store.self, Search.self, Export.self,
            Wrap.self, Cat.self, Validate.self, Log.self, Relay.self, Send.self, Recv.self, Call.self, Replay.self, Tap.self, Health.self, Describe.self,
            Key.self,
        ]
    )

    /// Runs the command; an error with a status code that escapes it is reported in one line and
    /// exits with its ``ExitStatus``, like those the commands catch themselves.
    static func main() async {
        do {
            var command = try await asyncParseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as RunnelError {
            Standard.error("runnel: \(error.code.name): \(error.message)\n")
            exit(withError: ExitStatus(error).exitCode)
        } catch {
            exit(withError: error)
        }
    }
}
