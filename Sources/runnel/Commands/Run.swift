import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelSupervisor
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline under a supervisor: start its stages, feed them, keep them alive.",
        usage: "runnel run <file> [<options>]",
        discussion: """
            Reads a pipeline file (TOML), asks every stage to describe itself and refuses \
            the pipeline when a stage emits a type the next does not accept. Then it binds \
            each stage's socket, starts the stages, feeds the source's URLs through them \
            with end-to-end acks, and restarts stages that fail (one_for_one, rest_for_one \
            or one_for_all, with backoff, up to max_restarts within period). A restarted \
            stage takes over the same socket, so nothing is lost.

            The source keeps a durable cursor (.runnel/NAME/cursor beside the file):
            SIGTERM, Ctrl-C or SIGHUP (the terminal closed) drains from the source down \
            and exits 0, and the next run \
            resumes where the acks reached. When every URL is done it drains and exits 0; \
            with follow = true in [source] it goes on instead, taking the lines added to \
            the URL file or the pages added to the directory, until it is stopped.

              runnel run Examples/news.toml
              runnel status            # in another terminal: pids, restarts, messages
              runnel search --db Examples/news.sqlite "phai bo"

            A pipeline file with [hosts] places stages on several hosts; each host runs \
            its part with --host NAME, and links between hosts are tcp:// (tls:// with \
            a [tls] section). Its status is then under the name NAME@HOST.

            links = "nats://HOST:PORT" in [pipeline] links the stages through JetStream \
            work queues instead (NAME.STAGE, one per stage; a path sets another prefix, a \
            query ack_wait, max_ack_pending and storage): each hop is durable, and the run \
            ends once the source's URLs are in JetStream and every queue is empty.

            runnel check FILE validates a pipeline file without starting it. What a \
            pipeline file means by the keys it leaves out:

            """ + PipelineDefaults.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    )

    @Argument(help: "The pipeline file.")
    var file: String

    @Flag(inversion: .prefixedNo, help: "Show done/total, rate and ETA on a terminal.")
    var progress = true

    @Option(help: ArgumentHelp("Serve Prometheus metrics here, e.g. tcp://127.0.0.1:9464.", valueName: "endpoint"))
    var metrics: String?

    @Flag(help: "Go on past the last URL until stopped, taking the lines appended to the source's file or the pages added to its directory (follow = true in [source]).")
    var follow = false

    @Option(help: .value("Run this host's part of a pipeline that places stages on [hosts].", example: "a", valueName: "name"))
    var host: String?

    func run() async throws {
        var origin = ExitStatus.Origin.pipelineFile  // what an INVALID_ARGUMENT is about
        do {
            var definition = try PipelineDefinition(contentsOf: file)
            for warning in definition.warnings { Deprecation.warn(warning) }
            if follow {
                if case .urls("-") = definition.source {
                    throw ValidationError("--follow is for a source file or directory; urls = \"-\" (stdin) is read until it is closed anyway")
                }
                definition.follow = true
            }
            var endpoint: Endpoint?
            if let metrics {
                origin = .commandLine
                endpoint = try Endpoint(parsing: metrics)
                guard case .tcp = endpoint else {
                    throw RunnelError(.invalidArgument, "--metrics needs tcp://HOST:PORT, not \(metrics)")
                }
                origin = .pipelineFile
            }
            let supervisor = try Supervisor(
                definition: definition, runnel: Self.executablePath(), progress: progress && isatty(2) == 1, host: host,
                metrics: endpoint, version: Runnel.version)
            let status = try await supervisor.run()
            if status != 0 { throw ExitStatus.failure.exitCode }  // a stage failed past its restart limit
        } catch let error as RunnelError {
            Standard.error("runnel run: \(error.code.name): \(error.message)\n")
            throw ExitStatus(error, from: origin).exitCode
        }
    }

    /// This program, to start the built-in stages with.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

/// Options naming which running pipeline to talk to.
struct PipelineName: ParsableArguments {
    @Option(help: .value("The pipeline's name.", default: "the only one running", example: "news"))
    var name: String?

    /// A name is one directory under the run directory: `../x` or `a/b` would reach outside it.
    func validate() throws {
        if let name, name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0") {
            throw ValidationError("--name \"\(name)\" is not a pipeline's name (its [pipeline] name: letters, digits, - and _)")
        }
    }

    func controlPath() throws -> String {
        if let name { return Supervisor.runDirectory(name: name) + "/control.sock" }
        let base = (Supervisor.runDirectory(name: "x") as NSString).deletingLastPathComponent
        let found = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).sorted().filter {
            FileManager.default.fileExists(atPath: base + "/" + $0 + "/control.sock")
        }
        // A supervisor that was killed leaves its control socket behind, with no one listening.
        let names = found.filter { (try? UnixSocketAddress(base + "/" + $0 + "/control.sock"))?.isListening ?? false }
        guard names.count == 1 else {
            let gone = found.count - names.count
            let left = gone == 0 ? "" : "; \(gone) left behind by supervisors that are gone, the next run of each clears its own"
            Standard.error(
                names.isEmpty
                    ? "runnel: no pipeline is running (none under \(base)\(left))\n"
                    : "runnel: several pipelines are running (\(names.joined(separator: ", "))); pass --name\n")
            throw (names.isEmpty ? ExitStatus.unavailable : .usage).exitCode
        }
        return base + "/" + names[0] + "/control.sock"
    }

    /// Asks the pipeline one thing. A refusal (no such stage, a bad request) is reported on
    /// stderr and exits 64; an error reply with another code exits with that code's status.
    func request(_ request: ControlRequest, timeout: Duration = .seconds(10)) async throws -> ControlReply {
        do {
            let reply = try await ControlClient.request(try controlPath(), request, timeout: timeout)
            if let failure = reply.failure {
                Standard.error("runnel: \(failure.message)\n")
                let refused = failure.code == .invalidArgument || failure.code == .notFound
                throw (refused ? ExitStatus.usage : ExitStatus(failure)).exitCode
            }
            return reply
        } catch let error as RunnelError {
            Standard.error("runnel: \(error.code.name): \(error.message)\n")
            throw ExitStatus(error).exitCode
        }
    }

    /// The pipeline's status.
    func status() async throws -> PipelineStatus {
        guard case let .status(status) = try await request(.status) else {
            Standard.error("runnel: DATA_LOSS: the supervisor answered status with something else\n")
            throw ExitStatus.dataError.exitCode
        }
        return status
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show a running pipeline's stages: pid, state, uptime, restarts, messages, errors.")

    @OptionGroup var pipeline: PipelineName

    @Flag(help: "Print the status as JSON (Protocol/schemas/status.json).")
    var json = false

    func run() async throws {
        let status = try await pipeline.status()
        print(json ? Self.json(status, pretty: true) : Self.table(status))
    }

    /// A value as JSON: sorted keys, slashes as they are; indented when `pretty`.
    static func json(_ value: some Encodable, pretty: Bool = false) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    /// The status as a table, with rates (messages per second) when there are some.
    static func table(_ status: PipelineStatus, rates: PipelineRates? = nil) -> String {
        let host = status.host.isEmpty ? "" : " on host \(status.host)"
        var text = "\(status.pipeline)\(host) (supervisor pid \(status.pid), up \(status.uptimeSeconds) s): "
        text += "\(status.done)\(status.total > 0 ? "/\(status.total)" : "") done, \(status.outputs) outputs"
        if let rates { text += String(format: ", %.1f done/s, %.1f outputs/s", rates.donePerSecond, rates.outputsPerSecond) }
        text += "\n"
        var header = ["STAGE", "STATE", "PIDS", "UP", "RESTARTS", "IN", "OUT", "IN FLIGHT", "ERRORS"]
        if rates != nil { header += ["IN/S", "OUT/S", "ERR/S"] }
        header.append("LAST STATUS")
        var rows = [header]
        var peerLines: [String] = []
        func count(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        func perSecond(_ value: Double?) -> String { value.map { String(format: "%.1f", $0) } ?? "-" }
        for stage in status.stages {
            var row = [
                stage.name, stage.state, stage.pids.map(String.init).joined(separator: ","), "\(stage.uptimeSeconds)s",
                "\(stage.restarts)", count(stage.received), count(stage.emitted), count(stage.inFlight), count(stage.errors),
            ]
            if let rates {
                let rate = rates.stages.first { $0.name == stage.name }
                row[4] += rate.map { $0.restarts > 0 ? " (+\($0.restarts))" : "" } ?? ""
                row += [perSecond(rate?.receivedPerSecond), perSecond(rate?.emittedPerSecond), perSecond(rate?.errorsPerSecond)]
            }
            row.append(stage.lastStatus ?? "")
            rows.append(row)
            if let peers = stage.peers { peerLines.append("  \(stage.name): \(peers)") }
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            text += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            text += "\n"
        }
        text += captureLines(status)
        if !peerLines.isEmpty { text += "links:\n" + peerLines.joined(separator: "\n") + "\n" }
        return text
    }
}

struct Top: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Watch a running pipeline: its status and rates (messages/s in and out, errors/s, restarts), until it ends.",
        discussion: """
            Asks the pipeline for its status every --interval and shows the table of runnel \
            status with the rates between the last two answers. With --json it prints one \
            JSON object per refresh instead, {"time", "status", "rates"}, from the second \
            answer on (rates need two).

              runnel top --json | jq -c '.rates.stages[] | {name, in_per_s}'
              runnel top --once --json   # one refresh, then exit
            """)

    @OptionGroup var pipeline: PipelineName

    @Flag(help: "Print one JSON object per refresh (status and rates) instead of the table.")
    var json = false

    @Flag(help: "Print one refresh with rates (two answers, --interval apart), then exit.")
    var once = false

    @Option(
        help: .value("Time between refreshes.", default: TimeSpan.seconds(1), example: "2s"),
        transform: TimeSpan.argument("--interval", range: .milliseconds(100) ... .maximum))
    var interval = TimeSpan.seconds(1)

    /// One refresh of `runnel top --json`.
    struct Refresh: Encodable {
        var time: String
        var status: PipelineStatus
        var rates: PipelineRates
    }

    func run() async throws {
        let control = try pipeline.controlPath()
        let clock = ContinuousClock()
        var previous: (status: PipelineStatus, at: ContinuousClock.Instant)?
        while true {
            let status: PipelineStatus
            if previous == nil {
                status = try await pipeline.status()
            } else {
                // Once shown, a pipeline that stops answering has ended: that ends the watch too.
                guard case let .status(answer)? = try? await ControlClient.request(control, .status, timeout: .seconds(5)) else {
                    if !json { print("the pipeline has ended") }  // below its last table
                    return
                }
                status = answer
            }
            let now = clock.now
            let rates = previous.map { PipelineRates(from: $0.status, to: status, over: $0.at.duration(to: now)) }
            previous = (status, now)
            if json {
                if let rates { print(Status.json(Refresh(time: Timestamp.now(), status: status, rates: rates))) }
            } else {
                print((once ? "" : "\u{1B}[H\u{1B}[2J") + Status.table(status, rates: rates), terminator: "")
            }
            fflush(nil)
            if once && rates != nil { return }
            try await clock.sleep(for: interval.duration)
        }
    }
}

struct Restart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one stage of a running pipeline (it drains first).")

    @Argument(help: "The stage to restart.")
    var stage: String

    @OptionGroup var pipeline: PipelineName

    func run() async throws {
        _ = try await pipeline.request(.restart(stage: stage))
        print("restarting \(stage)")
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a running pipeline: drain from the source down, then exit.")

    @OptionGroup var pipeline: PipelineName

    func run() async throws {
        _ = try await pipeline.request(.stop)
        print("stopping")
    }
}
