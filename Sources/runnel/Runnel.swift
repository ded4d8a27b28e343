import ArgumentParser
import RunnelProtocol

@main
struct Runnel: AsyncParsableCommand {
    static let version = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "runnel",
        abstract: "A message-pipeline worker for news pages.",
        discussion: """
            Stages exchange zstd-compressed JSON lines. Every stage is also a stdin→stdout
            filter:

              runnel fetch < urls.txt | runnel parse | runnel enrich | runnel store --db news.sqlite

            Inspect any link or log:

              runnel cat capture.jsonl.zst --type page.fetched | jq .body.url
              runnel validate capture.jsonl.zst

            The protocol is specified in Protocol/PROTOCOL.md.
            """,
        version: "runnel \(version) (protocol v\(Envelope.protocolVersion))",
        subcommands: [
            Run.self, Status.self, Top.self, Restart.self, Stop.self,
            Fetch.self, Parse.self, Enrich.self, Store.self, Search.self, Export.self,
            Wrap.self, Cat.self, Validate.self, Log.self, Relay.self, Send.self, Recv.self, Call.self, Replay.self, Tap.self, Health.self, Describe.self,
            Key.self,
        ]
    )
}
