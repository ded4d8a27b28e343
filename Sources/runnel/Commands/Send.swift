import ArgumentParser
import Logging
import RunnelProtocol
import RunnelStage
import RunnelTransport

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send",
        abstract: "Send messages to a stage reliably: exit 0 only when every one was acked.",
        discussion: """
            Reads JSON lines (plain or zstd) from FILE or stdin and sends them, unchanged, \
            to the stage listening at ENDPOINT, within the credit it grants. Unacked \
            messages are resent after a reconnect. Exits 0 when all were acked; otherwise \
            1, saying how many were not.

              runnel send unix:/run/runnel/parse.sock pages.jsonl.zst
              RUNNEL_KEY=… runnel send tcp://parse-host:7000 < pages.jsonl
              runnel send nats://10.0.0.7:4222/pages pages.jsonl.zst
            """
    )

    @Argument(help: "Where to send: unix:PATH, tcp://HOST:PORT, tls://HOST:PORT or nats://HOST:PORT/SUBJECT (JetStream).")
    var endpoint: String

    @Argument(help: "The messages; '-' or none for stdin.")
    var file: String = "-"

    @OptionGroup(title: "Input") var input: SendInputOptions
    @OptionGroup(title: "Reliability") var delivery: DeliveryOptions

    @Option(
        name: .customLong("dead-letter"),
        help: .value(
            "Append messages that cannot be delivered for good (refused by the stage, or in flight through too many broken links) to this log (zstd JSON lines).",
            example: "refused.jsonl.zst", valueName: "path"))
    var deadLetter: String?

    @OptionGroup(title: "Security") var security: ClientSecurityOptions
    @OptionGroup(title: "Observability") var observability: VerboseOption
    @OptionGroup var supervised: SupervisedOptions

    func run() async throws {
        guard try Endpoint(parsing: endpoint).isSocket else {
            throw ValidationError("send needs a socket endpoint (unix:PATH, tcp://HOST:PORT or nats://HOST:PORT/SUBJECT), not \(endpoint)")
        }
        if input.follow && file == "-" {
            throw ValidationError("--follow needs a FILE to follow (stdin ends when its writer closes it)")
        }
        let configuration = RunnerConfiguration(deadLetterPath: deadLetter, limits: input.stream.limits, verbose: observability.verbose)
        let unacked = try await runStage(RelayStage(name: "send", adoptsURLs: input.urls), configuration: configuration) {
            () throws(RunnelError) in
            var link = LinkRunner<RelayStage>.Options()
            link.listen = file == "-" ? .stdio : try Endpoint(parsing: file.hasPrefix("file:") ? file : "file:" + file)
            link.to = try Endpoint(parsing: endpoint)
            link.key = try security.key.load()
            link.tls = try security.tls.checked(listen: link.listen, to: link.to)
            link.follow = input.follow
            delivery.apply(to: &link)
            supervised.apply(to: &link)
            return link
        }
        if unacked > 0 {
            Logger(stage: "send").error("\(unacked == 1 ? "1 message was" : "\(unacked) messages were") not acked by \(endpoint)")
            throw ExitStatus.unavailable.exitCode
        }
    }
}

/// What `runnel send` reads.
struct SendInputOptions: ParsableArguments {
    @Flag(help: "Turn bare URL lines (http, https, file) into url.requested messages; skip # comments.")
    var urls = false

    @Flag(help: "At the end of FILE, wait for lines appended to it instead of ending (a URL list that grows). Followed by name, as tail -F: a file saved anew in its place, rotated or truncated is read from its start (with --cursor, reading ends there instead). SIGTERM or Ctrl-C ends.")
    var follow = false

    @OptionGroup var stream: StreamOptions
}

/// `-v`, for the commands that have nothing else to say about themselves.
struct VerboseOption: ParsableArguments {
    @Flag(name: .shortAndLong, help: "Print a summary on stderr at the end even when nothing failed.")
    var verbose = false
}

struct Recv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recv",
        abstract: "Receive messages on a socket, ack them, and print them as JSON lines.",
        discussion: """
            A sink for tests and scripts: listens at ENDPOINT, acks every message once it \
            is written to stdout, and runs until SIGTERM or SIGINT.

              runnel recv --listen unix:/tmp/runnel/out.sock > received.jsonl
            """
    )

    @OptionGroup(title: "Input") var input: InputOptions
    @OptionGroup(title: "Input") var stream: StreamOptions
    @OptionGroup(title: "Output") var output: CompressionOptions
    @OptionGroup(title: "Security") var security: ListenerSecurityOptions
    @OptionGroup(title: "Observability") var observability: VerboseOption

    func run() async throws {
        guard try Endpoint(parsing: input.listen).isSocket else {
            throw ValidationError("recv needs --listen with a socket endpoint (unix:PATH or tcp://HOST:PORT)")
        }
        let configuration = RunnerConfiguration(
            zstdOutput: output.zstd, zstdLevel: output.level, limits: stream.limits, verbose: observability.verbose)
        try await runStage(RelayStage(name: "recv"), configuration: configuration) { () throws(RunnelError) in
            var link = LinkRunner<RelayStage>.Options()
            link.listen = try Endpoint(parsing: input.listen)
            link.key = try security.key.load()
            link.tls = try security.tls.checked(listen: link.listen, to: link.to)
            input.apply(to: &link)
            return link
        }
    }
}
