import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelTransport

/// Connects to a stage, says hello as a tool, asks one control question, prints the answer.
func probe(_ endpointText: String, keyFile: String?, tls: TLSOptions = TLSOptions(), ask: ControlMessage) async throws -> ControlMessage {
    do {
        let endpoint = try Endpoint(parsing: endpointText)
        guard endpoint.isSocket else {
            throw RunnelError(.invalidArgument, "\(endpointText) is not a socket endpoint (unix:PATH, tcp://HOST:PORT or tls://HOST:PORT)")
        }
        let key = try SharedKey.load(file: keyFile)
        let connection = try await LineConnection.connect(to: endpoint, tls: tls.settings)
        let answer: ControlMessage? = try await connection.run { reader, writer in
            _ = try await Handshake(local: Hello(stage: "runnel-\(ask.name)"), key: key).connect(&reader, writer)
            try writer.send(ask)
            while let input = try await reader.next() {
                guard case let .line(.control(control)) = input else { continue }
                if control.name == ask.name { return control }
                if case let .bye(bye) = control, bye.code != .ok { throw RunnelError(bye.code, bye.message) }
            }
            return nil
        }
        guard let answer else { throw RunnelError(.unavailable, "\(endpointText) closed the link without answering") }
        return answer
    } catch {
        report(error as? RunnelError ?? RunnelError(.unavailable, "\(error)"), in: endpointText)
        throw ExitCode(1)
    }
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Ask a stage whether it is serving (as grpc.health.v1).",
        discussion: "Prints SERVING, NOT_SERVING or UNKNOWN; exit status 0 only for SERVING.\n\n  runnel health unix:/run/runnel/parse.sock")

    @Argument(help: "The stage's endpoint: unix:PATH, tcp://HOST:PORT or tls://HOST:PORT.")
    var endpoint: String

    @Option(name: .customLong("key-file"), help: "The shared key for TCP and TLS (default: $RUNNEL_KEY).")
    var keyFile: String?

    @OptionGroup(title: "TLS (tls:// endpoints)") var tls: TLSOptions

    func run() async throws {
        guard case let .health(status?) = try await probe(endpoint, keyFile: keyFile, tls: tls, ask: .health(nil)) else {
            throw ExitCode(1)
        }
        print(status.rawValue)
        if status != .serving { throw ExitCode(1) }
    }
}

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a stage's service definition: its name, accepted and emitted types, options.",
        discussion: "Like gRPC reflection.\n\n  runnel describe unix:/run/runnel/parse.sock | jq .accepts")

    @Argument(help: "The stage's endpoint: unix:PATH, tcp://HOST:PORT or tls://HOST:PORT.")
    var endpoint: String

    @Option(name: .customLong("key-file"), help: "The shared key for TCP and TLS (default: $RUNNEL_KEY).")
    var keyFile: String?

    @OptionGroup(title: "TLS (tls:// endpoints)") var tls: TLSOptions

    func run() async throws {
        guard case let .describe(service?) = try await probe(endpoint, keyFile: keyFile, tls: tls, ask: .describe(nil)) else {
            throw ExitCode(1)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(service), as: UTF8.self))
    }
}
