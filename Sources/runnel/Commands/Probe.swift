import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelTransport

/// Connects to a stage, says hello as a tool, asks one control question, prints the answer.
func probe(
    _ endpointText: String, security: ClientSecurityOptions, timeout: TimeSpan, ask: ControlMessage
) async throws -> ControlMessage {
    do {
        let endpoint = try Endpoint(parsing: endpointText)
        guard endpoint.isSocket else {
            throw RunnelError(.invalidArgument, "\(endpointText) is not a socket endpoint (unix:PATH, tcp://HOST:PORT or tls://HOST:PORT)")
        }
        let key = try security.key.load()
        let connection = try await LineConnection.connect(to: endpoint, tls: security.tls)
        let answer: ControlMessage? = try await connection.run(within: timeout, asking: "\(endpointText) for \(ask.name)") { reader, writer in
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
        let error = error as? RunnelError ?? RunnelError(.unavailable, "\(error)")
        report(error, in: endpointText)
        throw ExitStatus(error).exitCode
    }
}

extension LineConnection {
    /// Runs `body` on the connection, closing it once `timeout` has passed: a peer that accepts
    /// and then says nothing cannot hold a command forever.
    /// - Throws: ``RunnelError`` `DEADLINE_EXCEEDED` naming `what` when the time ran out (also
    ///   when `body` then ended without an answer), else what `body` threw.
    func run<R: Sendable>(
        within timeout: TimeSpan, asking what: String, _ body: (inout LineReader, LineWriter) async throws -> R?
    ) async throws -> R? {
        let deadline = ContinuousClock.now + timeout.duration
        let watchdog = Task { [self] in
            try await Task.sleep(until: deadline)
            close()
        }
        defer { watchdog.cancel() }
        let expired = RunnelError(.deadlineExceeded, "no answer from \(what) within \(timeout) (--timeout)")
        do {
            let result = try await run(body)
            if result == nil && ContinuousClock.now >= deadline { throw expired }
            return result
        } catch {
            throw ContinuousClock.now >= deadline ? expired : error
        }
    }
}

/// `--timeout`, for the commands that ask a stage one question.
struct TimeoutOption: ParsableArguments {
    @Option(
        help: .value("Give up when the stage has not answered within this long.", default: TimeSpan.seconds(10), example: "2s", valueName: "duration"),
        transform: TimeSpan.argument("--timeout", legacyUnit: .seconds(1), range: .milliseconds(1) ... .maximum))
    var timeout = TimeSpan.seconds(10)
}

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Ask a stage whether it is serving (as grpc.health.v1).",
        usage: "runnel health <endpoint> [<options>]",
        discussion: "Prints SERVING, NOT_SERVING or UNKNOWN; exit status 0 only for SERVING (69 otherwise).\n\n  runnel health unix:/run/runnel/parse.sock")

    @Argument(help: "The stage's endpoint: unix:PATH, tcp://HOST:PORT or tls://HOST:PORT.")
    var endpoint: String

    @OptionGroup(title: "Security") var security: ClientSecurityOptions

    @OptionGroup var timeout: TimeoutOption

    func run() async throws {
        guard case let .health(status?) = try await probe(endpoint, security: security, timeout: timeout.timeout, ask: .health(nil)) else {
            throw ExitStatus.failure.exitCode
        }
        print(status.rawValue)
        if status != .serving { throw ExitStatus.unavailable.exitCode }
    }
}

struct Describe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Print a stage's service definition: its name, accepted and emitted types, options.",
        usage: "runnel describe <endpoint> [<options>]",
        discussion: "Like gRPC reflection.\n\n  runnel describe unix:/run/runnel/parse.sock | jq .accepts")

    @Argument(help: "The stage's endpoint: unix:PATH, tcp://HOST:PORT or tls://HOST:PORT.")
    var endpoint: String

    @OptionGroup(title: "Security") var security: ClientSecurityOptions

    @OptionGroup var timeout: TimeoutOption

    func run() async throws {
        guard case let .describe(service?) = try await probe(endpoint, security: security, timeout: timeout.timeout, ask: .describe(nil)) else {
            throw ExitStatus.failure.exitCode
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(service), as: UTF8.self))
    }
}
