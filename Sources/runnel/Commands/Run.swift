import ArgumentParser
import Foundation
import RunnelProtocol
import RunnelSupervisor
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
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
            SIGTERM or Ctrl-C drains from the source down and exits 0, and the next run \
            resumes where the acks reached. When every URL is done it drains and exits 0.

              runnel run Examples/news.toml
              runnel status            # in another terminal: pids, restarts, messages
              runnel search --db Examples/news.sqlite "phai bo"

            A pipeline file with [hosts] places stages on several hosts; each host runs \
            its part with --host NAME, and links between hosts are tcp:// (tls:// with \
            a [tls] section). Its status is then under the name NAME@HOST.
            """
    )

    @Argument(help: "The pipeline file.")
    var file: String

    @Flag(inversion: .prefixedNo, help: "Show done/total, rate and ETA on a terminal.")
    var progress = true

    @Option(help: ArgumentHelp("Serve Prometheus metrics here, e.g. tcp://127.0.0.1:9464.", valueName: "endpoint"))
    var metrics: String?

    @Option(help: .value("Run this host's part of a pipeline that places stages on [hosts].", example: "a", valueName: "name"))
    var host: String?

    func run() throws {
        var origin = ExitStatus.Origin.pipelineFile  // what an INVALID_ARGUMENT is about
        do {
            let definition = try PipelineDefinition(contentsOf: file)
            for warning in definition.warnings { Deprecation.warn(warning) }
            let supervisor = try Supervisor(
                definition: definition, runnel: Self.executablePath(), progress: progress && isatty(2) == 1, host: host)
            if let metrics {
                origin = .commandLine
                let endpoint = try Endpoint(parsing: metrics)
                guard case .tcp = endpoint else {
                    throw RunnelError(.invalidArgument, "--metrics needs tcp://HOST:PORT, not \(metrics)")
                }
                supervisor.metricsEndpoint = endpoint
                origin = .pipelineFile
            }
            let status = try supervisor.run()
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

    func controlPath() throws -> String {
        if let name { return Supervisor.runDirectory(name: name) + "/control.sock" }
        let base = (Supervisor.runDirectory(name: "x") as NSString).deletingLastPathComponent
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []).filter {
            FileManager.default.fileExists(atPath: base + "/" + $0 + "/control.sock")
        }
        guard names.count == 1 else {
            Standard.error(
                names.isEmpty
                    ? "runnel: no pipeline is running (none under \(base))\n"
                    : "runnel: several pipelines are running (\(names.joined(separator: ", "))); pass --name\n")
            throw (names.isEmpty ? ExitStatus.unavailable : .usage).exitCode
        }
        return base + "/" + names[0] + "/control.sock"
    }

    func request(_ body: [String: String]) throws -> [String: Any] {
        do {
            let reply = try ControlClient.request(try controlPath(), body)
            if let error = reply["error"] as? String {
                // The pipeline refused the request: it names no such stage.
                Standard.error("runnel: \(error)\n")
                throw ExitStatus.usage.exitCode
            }
            return reply
        } catch let error as RunnelError {
            Standard.error("runnel: \(error.code.name): \(error.message)\n")
            throw ExitStatus(error).exitCode
        }
    }
}

struct Status: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show a running pipeline's stages: pid, state, uptime, restarts, messages, errors.")

    @OptionGroup var pipeline: PipelineName

    @Flag(help: "Print the status as JSON.")
    var json = false

    func run() throws {
        let reply = try pipeline.request(["op": "status"])
        if json {
            let data = try JSONSerialization.data(withJSONObject: reply, options: [.prettyPrinted, .sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(Self.table(reply))
        }
    }

    static func table(_ reply: [String: Any]) -> String {
        let host = (reply["host"] as? String).flatMap { $0.isEmpty ? nil : " on host \($0)" } ?? ""
        var text = "\(reply["pipeline"] ?? "?")\(host) (supervisor pid \(reply["pid"] ?? "?"), up \(reply["uptime_s"] ?? 0) s): "
        text += "\(reply["done"] ?? 0)/\(reply["total"] ?? 0) done, \(reply["outputs"] ?? 0) outputs\n"
        let header = ["STAGE", "STATE", "PIDS", "UP", "RESTARTS", "IN", "OUT", "IN FLIGHT", "ERRORS", "LAST STATUS"]
        var rows = [header]
        var peerLines: [String] = []
        for stage in reply["stages"] as? [[String: Any]] ?? [] {
            rows.append([
                "\(stage["name"] ?? "")", "\(stage["state"] ?? "")",
                ((stage["pids"] as? [Int]) ?? []).map(String.init).joined(separator: ","), "\(stage["uptime_s"] ?? 0)s",
                "\(stage["restarts"] ?? 0)", "\(stage["in"] ?? "-")", "\(stage["out"] ?? "-")", "\(stage["in_flight"] ?? "-")",
                "\(stage["errors"] ?? "-")", "\(stage["last_status"] ?? "")",
            ])
            if let peers = stage["peers"] as? String { peerLines.append("  \(stage["name"] ?? ""): \(peers)") }
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            text += row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            text += "\n"
        }
        text += captureLines(reply)
        if !peerLines.isEmpty { text += "remote peers:\n" + peerLines.joined(separator: "\n") + "\n" }
        return text
    }
}

struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Watch a running pipeline's status, refreshed every second, until it ends.")

    @OptionGroup var pipeline: PipelineName

    func run() throws {
        let control = try pipeline.controlPath()
        var shown = false
        while true {
            let reply: [String: Any]
            if shown {
                // Once shown, a pipeline that stops answering has ended: that ends the watch too.
                guard let answer = try? ControlClient.request(control, ["op": "status"]) else {
                    print("the pipeline has ended")  // below its last table
                    return
                }
                reply = answer
            } else {
                reply = try pipeline.request(["op": "status"])
            }
            print("\u{1B}[H\u{1B}[2J" + Status.table(reply), terminator: "")
            fflush(nil)
            shown = true
            sleep(1)
        }
    }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Restart one stage of a running pipeline (it drains first).")

    @Argument(help: "The stage to restart.")
    var stage: String

    @OptionGroup var pipeline: PipelineName

    func run() throws {
        _ = try pipeline.request(["op": "restart", "stage": stage])
        print("restarting \(stage)")
    }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop a running pipeline: drain from the source down, then exit.")

    @OptionGroup var pipeline: PipelineName

    func run() throws {
        _ = try pipeline.request(["op": "stop"])
        print("stopping")
    }
}
