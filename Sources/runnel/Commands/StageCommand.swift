import Foundation
import ArgumentParser
import RunnelProtocol
import RunnelStage
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// The part of every stage command's help that explains delivery on a pipe.
let pipeDeliveryHelp = """
    With --listen or --to on a socket (unix: or tcp://), every message is acked \
    end to end: an input is acked upstream only once its outputs were acked \
    downstream, and unacked messages are resent after a reconnect. TCP links \
    need a shared key (RUNNEL_KEY or --key-file).

    On stdin→stdout there are no acks: a message counts as done once its outputs \
    are written, so a process that dies mid-pipe can lose what was in the pipe. \
    A failed message becomes an `error` record that flows downstream (the store \
    keeps it), or goes to --dead-letter; each is also reported on stderr in one \
    line. SIGTERM/SIGINT: stop reading, finish the batch in hand, name the \
    input line the unprocessed rest begins at, exit 0; a second one cuts the \
    batch short (what it finished is written, the rest named).
    """

/// Runs `stage` with a stage command's options: as a filter between streams, or with acks when
/// either end is a socket.
/// - Returns: the number of outputs never acked downstream (0 for a filter).
@discardableResult
func runStage<S: Stage>(_ stage: S, options: StageOptions) async throws -> Int {
    if options.observability.describe {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(stage.service), as: UTF8.self))
        return 0
    }
    return try await runStage(stage, configuration: options.configuration) { () throws(RunnelError) in try options.linkOptions() }
}

/// Runs `stage` between the endpoints that `link` names, reporting a failure on stderr and
/// exiting with its status; a reader of stdout that went away (`| head`) ends it quietly.
/// - Returns: the number of outputs never acked downstream (0 for a filter).
@discardableResult
func runStage<S: Stage>(
    _ stage: S, configuration: RunnerConfiguration, link makeLink: () throws(RunnelError) -> LinkRunner<S>.Options
) async throws -> Int {
    signal(SIGPIPE, SIG_IGN)
    var writesStdout = false
    do throws(RunnelError) {
        let link = try makeLink()
        writesStdout = link.to == .stdio
        if link.cursorPath != nil && !(link.to.isSocket && !link.listen.isSocket) {
            throw RunnelError(
                .invalidArgument, "--cursor needs a stream input (- or file:) and a socket --to: acks tell which lines are done")
        }
        if link.listen.isSocket || link.to.isSocket {
            let runner = try LinkRunner(stage: stage, configuration: configuration, options: link)
            let (_, unacked) = try await runner.run()
            return unacked
        }
        if link.listen == .stdio && isatty(STDIN_FILENO) == 1 {
            // Someone typed `runnel parse` at a prompt: say why nothing happens.
            let name = stage.service.name
            Standard.error(
                "runnel \(name): reading messages, one JSON object a line, from the terminal; end with Ctrl-D. "
                    + "A stage usually reads a pipe or a file: see runnel \(name) --help\n")
        }
        let input = try openInput(link.listen)
        let output = try openOutput(link.to)
        let runner = try FilterRunner(stage: stage, configuration: configuration, input: input, output: output)
        _ = try await runner.run()
        return 0
    } catch {
        if error.isBrokenPipe && writesStdout {
            // The reader of our stdout went away (`| head`): not our failure to report.
            throw ExitStatus.success.exitCode
        }
        report(error, in: stage.service.name)
        throw ExitStatus(error).exitCode
    }
}

func openInput(_ endpoint: Endpoint) throws(RunnelError) -> FileInput {
    switch endpoint {
    case let .file(path): return try FileInput(path: path)
    default: return try FileInput(path: "-")
    }
}

func openOutput(_ endpoint: Endpoint) throws(RunnelError) -> FileOutput {
    switch endpoint {
    case let .file(path): return try FileOutput(path: path, append: true)
    default: return FileOutput(descriptor: STDOUT_FILENO, name: "stdout", bufferLimit: 256 << 10)
    }
}
