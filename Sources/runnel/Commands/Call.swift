import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Call: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send messages to a stage and print its outputs, which come back on the same connection.",
        usage: "runnel call <endpoint> [<file>] [<options>]",
        discussion: """
            Like grpcurl for a stage: connects in call mode (PROTOCOL.md 7.10), sends each \
            message of FILE or stdin (JSON lines, plain or zstd), and prints every output as a \
            JSON line once the stage has acked its input. Failures come back as error records \
            and make the exit status 1.

              runnel call unix:/tmp/rn/parse.sock page.jsonl | jq .body.title
              runnel call tcp://parse-host:7000 pages.jsonl --timeout 2m
            """
    )

    @Argument(help: "The stage's endpoint: unix:PATH, tcp://HOST:PORT or tls://HOST:PORT.")
    var endpoint: String

    @Argument(help: "The messages; '-' or none for stdin.")
    var file: String = "-"

    @OptionGroup(title: "Security") var security: ClientSecurityOptions

    @Option(
        help: .value("Give up when the outputs have not all come back within this long.", default: TimeSpan.seconds(30), example: "2m", valueName: "duration"),
        transform: TimeSpan.argument("--timeout", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var timeout = TimeSpan.seconds(30)

    func run() async throws {
        let messages: [Envelope]
        do {
            messages = try readMessages()
        } catch {
            // A bad line is the input's, not the stage's.
            report(error, in: file == "-" ? "stdin" : file)
            throw ExitStatus(error).exitCode
        }
        do {
            let target = try Endpoint(parsing: endpoint)
            guard target.isSocket else { throw RunnelError(.invalidArgument, "call needs a socket endpoint, not \(endpoint)") }
            let key = try security.key.load()
            let connection = try await LineConnection.connect(to: target, tls: security.tls)
            let answer = try await connection.run(within: timeout, asking: "\(endpoint) for its outputs") { reader, writer in
                _ = try await Handshake(local: Hello(stage: "call", accepts: ["*"], emits: ["*"], mode: "call"), key: key)
                    .connect(&reader, writer)
                var credit = 0
                var next = 0
                var acked: UInt64 = 0
                var outputs: [Envelope] = []
                while acked < UInt64(messages.count) {
                    if credit > 0 && next < messages.count {
                        let n = min(credit, messages.count - next)
                        try writer.send((0..<n).map { (seq: UInt64(next + $0 + 1), envelope: messages[next + $0]) })
                        next += n
                        credit -= n
                    }
                    guard let input = try await reader.next() else { break }
                    switch input {
                    case let .line(.data(output)): outputs.append(output)
                    case let .line(.control(.credit(n))): credit += n
                    case let .line(.control(.ack(seq))): acked = max(acked, seq)
                    case let .line(.control(.bye(bye))) where bye.code != .ok: throw RunnelError(bye.code, bye.message)
                    default: break
                    }
                }
                try? writer.send(.drain)
                return (outputs, acked)
            }
            guard let (outputs, acked) = answer else { throw RunnelError(.unavailable, "\(endpoint) closed the link") }
            for output in outputs { print(output.jsonLine) }
            if acked < UInt64(messages.count) {
                throw RunnelError(.unavailable, "\(messages.count - Int(acked)) of \(messages.count) messages were not acked before \(endpoint) closed the link")
            }
            if outputs.contains(where: { $0.type == MessageType.error }) { throw ExitStatus.failure.exitCode }
        } catch let error as RunnelError {
            report(error, in: endpoint)
            throw ExitStatus(error).exitCode
        }
    }

    private func readMessages() throws(RunnelError) -> [Envelope] {
        let input = try FileInput(path: file)
        let decoder = StreamDecoder()
        var messages: [Envelope] = []
        var failure: RunnelError?
        do {
            try decoder.decodeAll(input) { event in
                switch event {
                case let .invalid(error): failure = failure ?? error
                case let .line(bytes, number):
                    do throws(RunnelError) {
                        if case let .data(envelope) = try WireLine(line: bytes) { messages.append(envelope) }
                    } catch {
                        failure = failure ?? error.at(.line(number))
                    }
                }
            }
        } catch {
            throw error as? RunnelError ?? RunnelError(.dataLoss, "\(error)")
        }
        if let failure { throw failure }
        return messages
    }
}
