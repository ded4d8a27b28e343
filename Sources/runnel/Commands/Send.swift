import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send messages to a stage reliably: exit 0 only when every one was acked.",
        discussion: """
            Reads JSON lines (plain or zstd) from FILE or stdin and sends them, unchanged,
            to the stage listening at ENDPOINT, within the credit it grants. Unacked
            messages are resent after a reconnect. Exits 0 when all were acked; otherwise
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

    @Flag(help: "Turn bare URL lines (http, https, file) into url.requested messages; skip # comments.")
    var urls = false

    @OptionGroup var runtime: StageOptions

    func run() async throws {
        var options = runtime
        options.listen = file == "-" ? "-" : (file.hasPrefix("file:") ? file : "file:" + file)
        options.to = endpoint
        guard try Endpoint(parsing: endpoint).isSocket else {
            throw ValidationError("send needs a socket endpoint (unix:PATH, tcp://HOST:PORT or nats://HOST:PORT/SUBJECT), not \(endpoint)")
        }
        let unacked = try await runStage(RelayStage(name: "send", adoptsURLs: urls), options: options)
        if unacked > 0 {
            Standard.error("runnel send: \(unacked) messages were not acked by \(endpoint)\n")
            throw ExitCode(1)
        }
    }
}

struct Recv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Receive messages on a socket, ack them, and print them as JSON lines.",
        discussion: """
            A sink for tests and scripts: listens at ENDPOINT, acks every message once it
            is written to stdout, and runs until SIGTERM or SIGINT.

              runnel recv --listen unix:/tmp/runnel/out.sock > received.jsonl
            """
    )

    @OptionGroup var runtime: StageOptions

    func run() async throws {
        guard try Endpoint(parsing: runtime.listen).isSocket else {
            throw ValidationError("recv needs --listen with a socket endpoint (unix:PATH or tcp://HOST:PORT)")
        }
        try await runStage(RelayStage(name: "recv"), options: runtime)
    }
}
