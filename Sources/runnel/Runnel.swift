import ArgumentParser
import Foundation
import Logging
import RunnelProtocol
import RunnelStage
import RunnelTransport

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

            """ + "\n" + logsHelp + "\n\n" + """
            Exit status (sysexits; an error's status code decides, and its place: a line \
            or byte of the input, a pipeline file, or the command line):

            """ + ExitStatus.table,
        version: "runnel \(version) (protocol v\(Envelope.protocolVersion))",
        subcommands: [
            Run.self, Check.self, Status.self, Top.self, Restart.self, Stop.self,
            Fetch.self, Parse.self, Enrich.self, Store.self, Search.self, Export.self,
            Wrap.self, Cat.self, Validate.self, Log.self, Relay.self, Send.self, Recv.self, Call.self, Replay.self, Tap.self, Health.self, Describe.self,
            Key.self,
        ]
    )

    /// Runs the command; an error with a status code that escapes it is reported in one line and
    /// exits with its ``ExitStatus``, like those the commands catch themselves.
    static func main() async {
        // A closed stdout or stderr is an EPIPE each command handles, never a death by signal
        // that would hide the exit status (`runnel relay --window 0 2>&-`: 64, not SIGPIPE).
        // Children get the default back (ChildProcess+Spawn).
        signal(SIGPIPE, SIG_IGN)
        do {
            var command = try await asyncParseAsRoot(try bootstrapLogging())
            // RUNNEL_EXECUTOR=loops; not for fetch, whose many requests at once finish sooner on
            // threads that take whichever task is ready (ConcurrencyThreads says why).
            if !(command is Fetch), ConcurrencyThreads.isRequested {
                if ConcurrencyThreads.useEventLoops() {
                    Logger(label: "runnel").debug("RUNNEL_EXECUTOR=loops: tasks run on the event loop threads")
                } else {
                    Logger(label: "runnel").warning(
                        "RUNNEL_EXECUTOR=loops cannot take effect: the Swift runtime's executor hook is set already; tasks run on Swift's own threads")
                }
            }
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as RunnelError {
            if RunnelLogging.isJSON {
                Logger(label: "runnel").error("\(error.code.name): \(error.message)", metadata: ["code": "\(error.code.name)"])
            } else {
                Standard.error("runnel: \(error.code.name): \(error.message)\n")
            }
            exit(withError: ExitStatus(error).exitCode)
        } catch let status as ExitCode {
            exit(withError: status)  // the command has said why
        } catch {
            let status = exitCode(for: error)
            if RunnelLogging.isJSON && !status.isSuccess {
                // The parser's refusal is one JSON line too (without its usage lines).
                Logger(label: "runnel").error("\(message(for: error))")
                exit(withError: status)
            }
            exit(withError: error)
        }
    }
}

extension Runnel {
    /// Sets up the logs from the environment and `--log-level`/`--log-format` (taken off the
    /// command line, whichever command they are given to), with the command as the stage.
    /// - Returns: the arguments for the command's own parser.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` for a level or format that does not exist.
    static func bootstrapLogging() throws(RunnelError) -> [String] {
        var settings = try LogSettings(environment: ProcessInfo.processInfo.environment, isTerminal: isatty(2) == 1)
        let arguments = try settings.take(from: Array(CommandLine.arguments.dropFirst()))
        let names = Set(configuration.subcommands.map { $0._commandName })
        settings.stage = arguments.prefix { $0 != "--" }.first { names.contains($0) }
        RunnelLogging.bootstrap(settings)
        return arguments
    }
}
