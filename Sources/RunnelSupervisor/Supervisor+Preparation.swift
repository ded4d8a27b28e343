import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// What happens before the first stage starts: the type check, the run and state directories,
/// what a previous supervisor left, the source file, and each member's command line.
extension Supervisor {
    /// The command of each stage, with its endpoints.
    nonisolated func command(of stage: PipelineDefinition.Stage) -> [String] {
        (stage.command ?? [runnel, stage.name]) + stage.args
    }

    /// Makes the run and state directories; refuses to start when the pipeline already runs;
    /// otherwise ends what a previous supervisor that died left running and removes its sockets.
    nonisolated func prepareDirectories() async throws(RunnelError) -> [pid_t] {
        for directory in [runDirectory, stateDirectory] {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw RunnelError(.permissionDenied, "cannot create \(directory): \(error.localizedDescription)")
            }
        }
        chmod(runDirectory, 0o700)
        if FileManager.default.fileExists(atPath: controlPath), (try? await ControlClient.request(controlPath, .ping, timeout: .seconds(2))) != nil {
            throw RunnelError(
                .alreadyExists,
                "pipeline \(definition.name) is already running (its control socket answers at \(controlPath)); runnel stop --name \(definition.name) ends it")
        }
        let killed = ProcessGroupRecord(stateDirectory: stateDirectory).killLeftovers()
        // Nobody answers: the sockets here are a dead supervisor's (the stages' are bound anew).
        for name in (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? [] where name.hasSuffix(".sock") {
            unlink(runDirectory + "/" + name)
        }
        return killed
    }

    /// The source as a file of lines: the URL file, or a list made from a directory of pages.
    nonisolated func sourceFile() throws(RunnelError) -> String {
        switch definition.source {
        case let .urls(path):
            let resolved = definition.resolve(path)
            guard resolved == "-" || FileManager.default.fileExists(atPath: resolved) else {
                throw RunnelError(.notFound, "\(definition.file): the URL file \(resolved) does not exist")
            }
            return resolved
        case let .directory(path):
            let resolved = definition.resolve(path)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: resolved) else {
                throw RunnelError(.notFound, "\(definition.file): the page directory \(resolved) does not exist")
            }
            let pages = names.filter(Self.isPage).sorted()
            let list = stateDirectory + "/pages.txt"
            let text = pages.map { "file://" + resolved + "/" + $0 }.joined(separator: "\n") + "\n"
            if (try? String(contentsOfFile: list, encoding: .utf8)) != text {
                try? text.write(toFile: list, atomically: true, encoding: .utf8)
                try? FileManager.default.removeItem(atPath: stateDirectory + "/cursor")  // a new list: start over
            }
            return list
        }
    }

    /// Whether a file in a page directory is a page the source sends.
    static func isPage(_ name: String) -> Bool {
        name.hasSuffix(".html") || name.hasSuffix(".htm") || name.hasSuffix(".txt")
    }

    nonisolated func countLines(_ path: String) -> Int {
        guard path != "-", !path.isEmpty, let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }.count
    }

    /// Binds each local stage's socket and makes every member's command line, in pipeline order
    /// (the source first when this host runs it).
    /// Each built-in stage's `--drain-timeout`: an equal share of the shutdown timeout (at least
    /// one second), as the members drain one after another.
    nonisolated var drainShare: Int64 {
        max(1, definition.shutdownTimeout.components.seconds / Int64(definition.stages.count + 1))
    }

    /// Where the source writes the URLs the first stage refused or crashed on every time.
    nonisolated var sourceDeadLetterPath: String { stateDirectory + "/source.dead.jsonl.zst" }

    /// Where a built-in stage writes the outputs its next stage refused or crashed on every time.
    nonisolated func undeliveredPath(of stage: String) -> String {
        stateDirectory + "/\(stage).undelivered.jsonl.zst"
    }

    nonisolated func makeLaunches(urls: String) throws(RunnelError) -> [Launch] {
        var next: String?
        var built: [Launch] = []
        for placed in placement.stages.reversed() {
            let stage = placed.stage
            let socketPath = runDirectory + "/\(stage.name).sock"
            // A link from another host: the stage binds its TCP port itself (and again after a
            // restart; meanwhile its upstream retries). A local link: a socket bound here.
            let socket = placed.listen == nil ? try ListeningSocket(path: socketPath) : nil
            let to = placed.remoteTo?.description ?? (placed.isLast ? "-" : next.map { "unix:" + $0 } ?? "-")
            var own = ["--listen", placed.listen?.description ?? "fd:3", "--to", to]
            own += keyArguments()
            if definition.isMultiHost && (placed.listen != nil || placed.remoteTo != nil) { own += tlsArguments() }
            let statistics = runDirectory + "/\(stage.name).stats.json"
            if stage.command == nil {
                own += ["--stats-file", statistics, "--tap-socket", tapPrefix(stage.name)]
                // What its next stage refuses for good or crashes on every time is kept, to
                // replay (its own failures still go on to the store).
                if !placed.isLast { own += ["--undelivered", undeliveredPath(of: stage.name)] }
                // The shutdown timeout covers the whole ordered drain, so each stage drains
                // within its share of it (unless its args say otherwise).
                if !stage.args.contains(where: { $0.hasPrefix("--drain-timeout") }) {
                    own += ["--drain-timeout", "\(drainShare)s"]
                }
            }
            own += definition.captureArguments(for: stage, directory: stateDirectory + "/capture")
            // The supervisor's flags go before a `--` (`wrap`'s args = ["--", "jq", …]): after
            // it they would be the wrapped command's.
            var arguments = command(of: stage)
            arguments.insert(contentsOf: own, at: arguments.firstIndex(of: "--") ?? arguments.endIndex)
            built.insert(
                Launch(
                    name: stage.name, arguments: arguments, environment: stage.environment, socket: socket,
                    statisticsPath: statistics, peers: placed.peers, isOutput: placed.isLast, isSource: false),
                at: 0)
            next = socketPath
        }
        // The source sends to the first stage: its socket, or its JetStream work queue.
        let firstInput = definition.natsLinks != nil ? placement.stages.first?.listen?.description : next.map { "unix:" + $0 }
        guard placement.runsSource, let first = firstInput else { return built }
        let statistics = runDirectory + "/source.stats.json"
        let drain = min(definition.shutdownTimeout.components.seconds, 5)
        let source = Launch(
            name: "source",
            arguments: [
                runnel, "send", first, urls, "--urls", "--cursor", stateDirectory + "/cursor",
            ] + (definition.follow ? ["--follow"] : []) + [
                "--stats-file", statistics, "--tap-socket", tapPrefix("source"),
                "--dead-letter", sourceDeadLetterPath, "--finish-timeout", "0s", "--drain-timeout", "\(drain)s",
            ] + keyArguments(),
            environment: [:], socket: nil, statisticsPath: statistics, peers: nil, isOutput: false, isSource: true)
        return [source] + built
    }
}
