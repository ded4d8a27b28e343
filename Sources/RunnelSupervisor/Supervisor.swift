import Dispatch
import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Runs a pipeline: binds every stage's socket, starts the stages and the source, restarts what
/// fails as the ``RestartPolicy`` says, answers `runnel status` on a control socket, and drains
/// from the source down on SIGTERM or when the source is done.
///
/// All state lives on one serial queue; threads only read pipes, reap children and accept
/// control connections, and hand what they see to that queue.
public final class Supervisor: @unchecked Sendable {
    /// One stage (or the source) and its processes.
    struct Member {
        var name: String
        var arguments: [String]
        var environment: [String: String]
        var restart: RestartPolicy.RestartType
        var replicas: Int
        var socket: ListeningSocket?
        var pids: Set<pid_t> = []
        var state = "starting"
        var startedAt = Date()
        var restarts = 0
        var lastStatus: String?
        var statisticsPath: String
        /// Its links to stages on other hosts, for `runnel status`.
        var peers: String? = nil
    }

    public let definition: PipelineDefinition
    public let runDirectory: String
    public let stateDirectory: String
    private let runnel: String
    private let queue = DispatchQueue(label: "runnel.supervisor")
    private var members: [Member] = []
    private var policy: RestartPolicy
    private var shuttingDown = false
    private var finished = false
    private var exitCode: Int32 = 0
    private var killedAtShutdown = false
    private var outputs = 0
    private var total = 0
    private var startedAt = Date()
    private var control: ControlServer?
    private var metrics: MetricsServer?
    /// Where to serve Prometheus metrics, if anywhere.
    public var metricsEndpoint: Endpoint?
    private let done = DispatchSemaphore(value: 0)
    private var signalSources: [any DispatchSourceSignal] = []
    private let showProgress: Bool
    /// The host this supervisor runs the part of, when the pipeline places stages on hosts.
    public let host: String?
    private let placement: (stages: [PipelineDefinition.PlacedStage], runsSource: Bool)

    /// - Parameters:
    ///   - runnel: the `runnel` executable that built-in stages run as.
    ///   - host: which of the pipeline's `[hosts]` this is (`runnel run --host`); `nil` on one host.
    /// - Throws: ``RunnelError`` when `host` does not fit the pipeline's `[hosts]`.
    public init(definition: PipelineDefinition, runnel: String, progress: Bool, host: String? = nil) throws(RunnelError) {
        self.definition = definition
        self.runnel = runnel
        self.host = host
        placement = try definition.placement(on: host)
        policy = RestartPolicy(configuration: definition.policy)
        showProgress = progress
        runDirectory = Self.runDirectory(name: definition.name, host: host)
        stateDirectory = definition.directory + "/.runnel/" + definition.name + (host.map { "@" + $0 } ?? "")
    }

    /// The run directory of a pipeline named `name`, where its control socket is.
    /// On one host of several, `NAME@HOST` (so two hosts sharing a file system do not collide).
    public static func runDirectory(name: String, host: String? = nil) -> String {
        let base = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"].map { $0 + "/runnel" } ?? "/tmp/runnel-\(getuid())"
        return base + "/" + name + (host.map { "@" + $0 } ?? "")
    }

    // MARK: Start

    /// Runs the pipeline to its end. Returns the exit status for `runnel run`.
    public func run() throws(RunnelError) -> Int32 {
        // The stages run in the pipeline file's directory, so its relative paths mean the same to
        // them as to the file (every path the supervisor keeps is absolute).
        guard chdir(definition.directory) == 0 else {
            throw RunnelError.posix(errno, "cannot enter the pipeline's directory \(definition.directory)")
        }
        try checkTypes()
        try checkRemoteAuthentication()
        try prepareDirectories()
        let urls = placement.runsSource ? try sourceFile() : ""
        total = countLines(urls)
        try bindAndDescribeMembers(urls: urls)
        control = try ControlServer(path: runDirectory + "/control.sock") { [weak self] request in
            self?.answer(request) ?? ["error": "shutting down"]
        }
        if case let .tcp(host, port)? = metricsEndpoint {
            metrics = try MetricsServer(host: host, port: port) { [weak self] in
                guard let self else { return [:] }
                return self.queue.sync { self.status() }
            }
        }
        installSignals()
        startReaper()
        queue.sync {
            let names = placement.stages.map(\.stage.name)
            let part = host.map { " on host \($0): \(names.joined(separator: ", ")) of" } ?? ":"
            log("starting \(definition.name)\(part) \(definition.stages.map(\.name).joined(separator: " → ")) (run directory \(runDirectory))")
            for index in members.indices.reversed() { start(index) }
        }
        if showProgress { startProgress() }
        done.wait()
        control = nil
        metrics = nil
        return queue.sync { exitCode }
    }

    private func prepareDirectories() throws(RunnelError) {
        for directory in [runDirectory, stateDirectory] {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw RunnelError(.permissionDenied, "cannot create \(directory): \(error.localizedDescription)")
            }
        }
        chmod(runDirectory, 0o700)
        let controlPath = runDirectory + "/control.sock"
        if FileManager.default.fileExists(atPath: controlPath), (try? ControlClient.request(controlPath, ["op": "ping"])) != nil {
            throw RunnelError(
                .alreadyExists, "pipeline \(definition.name) is already running (its control socket answers at \(controlPath)); runnel stop --name \(definition.name) ends it")
        }
    }

    /// The source as a file of lines: the URL file, or a list made from a directory of pages.
    private func sourceFile() throws(RunnelError) -> String {
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
            let pages = names.filter { $0.hasSuffix(".html") || $0.hasSuffix(".htm") || $0.hasSuffix(".txt") }.sorted()
            let list = stateDirectory + "/pages.txt"
            let text = pages.map { "file://" + resolved + "/" + $0 }.joined(separator: "\n") + "\n"
            if (try? String(contentsOfFile: list, encoding: .utf8)) != text {
                try? text.write(toFile: list, atomically: true, encoding: .utf8)
                try? FileManager.default.removeItem(atPath: stateDirectory + "/cursor")  // a new list: start over
            }
            return list
        }
    }

    private func countLines(_ path: String) -> Int {
        guard path != "-", !path.isEmpty, let data = FileManager.default.contents(atPath: path) else { return 0 }
        return data.split(separator: 0x0A).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }.count
    }

    /// The command of each stage, with its endpoints.
    private func command(of stage: PipelineDefinition.Stage) -> [String] {
        (stage.command ?? [runnel, stage.name]) + stage.args
    }

    /// Asks each stage to describe itself, and refuses the pipeline when a stage emits a type the
    /// next one does not accept.
    private func checkTypes() throws(RunnelError) {
        var previous = (name: "source", emits: [MessageType.urlRequested])
        for stage in definition.stages {
            let service = try describe(stage)
            let accepted = Set(service.accepts)
            if !accepted.contains("*") && !previous.emits.contains("*") {
                let refused = previous.emits.filter { $0 != MessageType.error && !accepted.contains($0) }
                if !refused.isEmpty {
                    throw RunnelError(
                        .failedPrecondition,
                        "\(definition.file) line \(stage.line): \(previous.name) emits \(refused.joined(separator: ", ")) but \(stage.name) accepts only \(service.accepts.joined(separator: ", ")); nothing was started"
                    )
                }
            }
            previous = (stage.name, service.emits)
        }
    }

    private func describe(_ stage: PipelineDefinition.Stage) throws(RunnelError) -> ServiceDefinition {
        let process = Process()
        let arguments = command(of: stage) + ["--describe"]
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw RunnelError(.notFound, "\(definition.file) line \(stage.line): cannot run \(arguments.joined(separator: " ")): \(error)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0, let service = try? JSONDecoder().decode(ServiceDefinition.self, from: data) else {
            throw RunnelError(
                .failedPrecondition,
                "\(definition.file) line \(stage.line): stage \(stage.name) did not describe itself (\(arguments.joined(separator: " ")) exited \(process.terminationStatus)); is it a Runnel stage?"
            )
        }
        return service
    }

    private func bindAndDescribeMembers(urls: String) throws(RunnelError) {
        var next: String?
        var built: [Member] = []
        for placed in placement.stages.reversed() {
            let stage = placed.stage
            let socketPath = runDirectory + "/\(stage.name).sock"
            // A link from another host: the stage binds its TCP port itself (and again after a
            // restart; meanwhile its upstream retries). A local link: a socket bound here.
            let socket = placed.listen == nil ? try ListeningSocket(path: socketPath) : nil
            let to = placed.remoteTo?.description ?? (placed.isLast ? "-" : next.map { "unix:" + $0 } ?? "-")
            var arguments = command(of: stage) + ["--listen", placed.listen?.description ?? "fd:3", "--to", to]
            arguments += keyArguments()
            if placed.listen != nil || placed.remoteTo != nil { arguments += tlsArguments() }
            let statistics = runDirectory + "/\(stage.name).stats.json"
            if stage.command == nil { arguments += ["--stats-file", statistics, "--tap-socket", tapPrefix(stage.name)] }
            arguments += definition.captureArguments(for: stage, directory: stateDirectory + "/capture")
            built.insert(
                Member(
                    name: stage.name, arguments: arguments, environment: stage.environment, restart: stage.restart,
                    replicas: stage.replicas, socket: socket, statisticsPath: statistics, peers: placed.peers), at: 0)
            next = socketPath
        }
        guard placement.runsSource else {
            members = built
            return
        }
        let statistics = runDirectory + "/source.stats.json"
        let source = Member(
            name: "source",
            arguments: [runnel, "send", "unix:" + next!, urls, "--urls", "--cursor", stateDirectory + "/cursor",
                "--stats-file", statistics, "--tap-socket", tapPrefix("source"), "--dead-letter", stateDirectory + "/source.dead.jsonl.zst", "--finish-timeout", "0s", "--drain-timeout", "\(min(Int(definition.shutdownTimeout.components.seconds), 5))s"] + keyArguments(),
            environment: [:], restart: .transient, replicas: 1, socket: nil, statisticsPath: statistics)
        members = [source] + built
    }

    // MARK: Processes

    private func start(_ index: Int) {
        var member = members[index]
        let environment = ProcessInfo.processInfo.environment.merging(member.environment) { $1 }
        for _ in member.pids.count..<member.replicas {
            do {
                // The source reads the supervisor's stdin when the pipeline file says urls = "-".
                let child = try ChildProcess.spawn(
                    member.arguments, environment: environment, listening: member.socket?.descriptor,
                    inheritStdin: member.name == "source")
                member.pids.insert(child.pid)
                pump(child.stderr, prefix: member.name, isData: false)
                pump(child.stdout, prefix: member.name, isData: index == members.count - 1)
            } catch {
                log("cannot start \(member.name): \(error)")
                member.lastStatus = error.message
            }
        }
        member.state = member.pids.isEmpty ? "failed" : "running"
        member.startedAt = Date()
        members[index] = member
    }

    /// Copies a child's output to the supervisor's stderr, each line prefixed by the stage; the
    /// last stage's stdout is the pipeline's output and is counted instead.
    private func pump(_ fd: Int32, prefix: String, isData: Bool) {
        let thread = Thread { [weak self] in
            let input = FileHandle(fileDescriptor: fd, closeOnDealloc: true)
            var pending = Data()
            while true {
                let chunk = input.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: 0x0A) {
                    let line = pending[pending.startIndex..<newline]
                    pending = pending[(newline + 1)...]
                    guard let self else { continue }
                    if isData {
                        self.queue.async { self.outputs += 1 }
                    } else {
                        self.log("\(prefix) | " + String(decoding: line, as: UTF8.self), raw: true)
                    }
                }
            }
        }
        thread.start()
    }

    private func startReaper() {
        let thread = Thread { [weak self] in
            while true {
                var status: Int32 = 0
                let pid = waitpid(-1, &status, 0)
                if pid < 0 {
                    if errno == EINTR { continue }
                    if errno == ECHILD {
                        usleep(50_000)
                        if self == nil { return }
                        continue
                    }
                    return
                }
                let decoded = ChildProcess.decode(status)
                guard let supervisor = self else { return }
                supervisor.queue.async { supervisor.exited(pid, decoded) }
            }
        }
        thread.start()
    }

    private func exited(_ pid: pid_t, _ status: RestartPolicy.ExitStatus) {
        guard let index = members.firstIndex(where: { $0.pids.contains(pid) }) else { return }
        members[index].pids.remove(pid)
        unlink(tapSocket(members[index].name, pid: pid))  // left behind by a stage that was killed
        members[index].lastStatus = status.description
        let name = members[index].name
        if shuttingDown {
            if members[index].pids.isEmpty { members[index].state = "stopped" }
            continueShutdown()
            return
        }
        if name == "source" && status.isNormal {
            members[index].state = "done"
            log("source: every URL was acked end to end (\(outputs) outputs); draining the stages")
            shutdown(reason: nil)
            return
        }
        if members[index].state == "restarting" {
            // Stopped on purpose, as part of a rest_for_one or one_for_all restart.
            return
        }
        log("\(name) stopped: \(status)")
        if Date().timeIntervalSince(members[index].startedAt) > definition.policy.period.seconds {
            policy.stayedUp(name)
        }
        let order = members.map(\.name)
        switch policy.exited(name, status: status, type: members[index].restart, order: order, now: .now, jitter: Double.random(in: -1...1)) {
        case .leaveDown:
            members[index].state = "stopped"
        case let .giveUp(reason):
            log(reason)
            exitCode = 1
            shutdown(reason: reason)
        case let .restart(names, delay):
            for other in names where other != name {
                guard let j = members.firstIndex(where: { $0.name == other }) else { continue }
                members[j].state = "restarting"
                for pid in members[j].pids { kill(pid, SIGTERM) }
            }
            for restarting in names {
                guard let j = members.firstIndex(where: { $0.name == restarting }) else { continue }
                members[j].state = "restarting"
            }
            log("restarting \(names.joined(separator: ", ")) in \(delay.milliseconds) ms")
            queue.asyncAfter(deadline: .now() + .milliseconds(Int(delay.milliseconds))) { [weak self] in
                self?.restart(names)
            }
        }
    }

    private func restart(_ names: [String]) {
        guard !shuttingDown else { return }
        for name in names {
            guard let index = members.firstIndex(where: { $0.name == name }) else { continue }
            if !members[index].pids.isEmpty {
                // Still stopping: try again shortly.
                queue.asyncAfter(deadline: .now() + .milliseconds(50)) { [weak self] in self?.restart([name]) }
                continue
            }
            members[index].restarts += 1
            start(index)
        }
    }

    /// Stop everything, from the source down: each member gets SIGTERM once the one before it
    /// has exited (so what it sent is acked), and SIGKILL after the shutdown timeout.
    private func shutdown(reason: String?) {
        guard !shuttingDown else { return }
        shuttingDown = true
        if let reason { log("stopping the pipeline: \(reason)") }
        let timeout = definition.shutdownTimeout
        queue.asyncAfter(deadline: .now() + .seconds(Int(timeout.components.seconds))) { [weak self] in
            guard let self, !self.finished else { return }
            for member in self.members where !member.pids.isEmpty {
                self.log("\(member.name) did not stop within \(timeout); killing it")
                self.killedAtShutdown = true
                for pid in member.pids { kill(pid, SIGKILL) }
            }
        }
        continueShutdown()
    }

    private func continueShutdown() {
        guard shuttingDown, !finished else { return }
        for index in members.indices {
            if members[index].pids.isEmpty { continue }
            if members[index].state != "stopping" {
                members[index].state = "stopping"
                for pid in members[index].pids { kill(pid, SIGTERM) }
            }
            return  // wait for this one before stopping the next
        }
        finished = true
        // Exit 0 unless the supervisor gave up or had to kill a stage that would not drain:
        // then something acked may not have reached the end.
        if killedAtShutdown { exitCode = 1 }
        log("stopped \(definition.name): \(cursorValue())\(total > 0 ? "/\(total)" : "") sources done, \(outputs) outputs in \(Int(Date().timeIntervalSince(startedAt))) s")
        let dead = stateDirectory + "/source.dead.jsonl.zst"
        if let size = (try? FileManager.default.attributesOfItem(atPath: dead))?[.size] as? Int, size > 0 {
            log("some source messages were dead-lettered (the next stage never acked them): runnel cat \(dead)")
        }
        done.signal()
    }

    // MARK: Signals, control, progress

    private func installSignals() {
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { [weak self] in self?.shutdown(reason: "signal \(number == SIGTERM ? "SIGTERM" : "SIGINT")") }
            source.resume()
            signalSources.append(source)
        }
        signal(SIGPIPE, SIG_IGN)
    }

    private func answer(_ request: [String: String]) -> [String: Any] {
        queue.sync {
            switch request["op"] {
            case "ping": return ["ok": true]
            case "status": return status()
            case "stop":
                shutdown(reason: "runnel stop")
                return ["ok": true]
            case "tap": return tap(request["stage"])
            case "restart":
                guard let name = request["stage"], let index = members.firstIndex(where: { $0.name == name }) else {
                    return ["error": "no stage named \(request["stage"] ?? "") (stages: \(members.map(\.name).joined(separator: ", ")))"]
                }
                members[index].state = "restarting"
                for pid in members[index].pids { kill(pid, SIGTERM) }
                queue.asyncAfter(deadline: .now() + .milliseconds(100)) { [weak self] in self?.restart([name]) }
                return ["ok": true]
            default:
                return ["error": "unknown request \(request["op"] ?? "")"]
            }
        }
    }

    /// Where the processes of a stage offer `runnel tap`: `NAME.tap.PID.sock` in the run directory
    /// (the stage adds `.PID.sock` to the prefix it is given).
    private func tapPrefix(_ name: String) -> String { runDirectory + "/\(name).tap" }
    private func tapSocket(_ name: String, pid: pid_t) -> String { tapPrefix(name) + ".\(pid).sock" }

    /// The tap sockets of a stage's running processes, for `runnel tap`.
    private func tap(_ name: String?) -> [String: Any] {
        guard let name, let member = members.first(where: { $0.name == name }) else {
            return ["error": "no stage named \(name ?? "") (stages: \(members.map(\.name).joined(separator: ", ")))"]
        }
        if member.name != "source", definition.stages.first(where: { $0.name == name })?.command != nil {
            return ["error": "\(name) runs its own command; only built-in stages (runnel …) can be tapped"]
        }
        let sockets = member.pids.sorted().map { tapSocket(name, pid: $0) }.filter { FileManager.default.fileExists(atPath: $0) }
        return ["stage": name, "state": member.state, "sockets": sockets]
    }

    private func status() -> [String: Any] {
        let stages: [[String: Any]] = members.map { member in
            var entry: [String: Any] = [
                "name": member.name, "state": member.state, "pids": member.pids.sorted().map(Int.init), "restarts": member.restarts,
                "uptime_s": member.pids.isEmpty ? 0 : Int(Date().timeIntervalSince(member.startedAt)),
            ]
            if let last = member.lastStatus { entry["last_status"] = last }
            if let peers = member.peers { entry["peers"] = peers }
            if let data = FileManager.default.contents(atPath: member.statisticsPath),
                let statistics = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
            {
                entry["in"] = statistics["received"]
                entry["out"] = statistics["emitted"]
                entry["in_flight"] = statistics["in_flight"]
                entry["errors"] = (statistics["failed"] as? [String: Int])?.values.reduce(0, +) ?? 0
                if let capture = statistics["capture"] as? [[String: Any]], !capture.isEmpty { entry["capture"] = capture }
            }
            return entry
        }
        return [
            "pipeline": definition.name, "host": host ?? "", "pid": Int(getpid()), "uptime_s": Int(Date().timeIntervalSince(startedAt)),
            "done": cursorValue(), "total": total, "outputs": outputs, "stages": stages,
        ]
    }

    private func cursorValue() -> Int {
        guard let data = FileManager.default.contents(atPath: stateDirectory + "/cursor") else { return 0 }
        return Int(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    private func startProgress() {
        let thread = Thread { [weak self] in
            var first: (Date, Int)?
            while let self, !self.queue.sync(execute: { self.finished }) {
                let done = self.queue.sync { self.cursorValue() }
                let now = Date()
                if first == nil { first = (now, done) }
                let elapsed = now.timeIntervalSince(first!.0)
                let rate = elapsed > 0 ? Double(done - first!.1) / elapsed : 0
                let left = max(self.total - done, 0)
                let eta = rate > 0 ? "\(Int(Double(left) / rate)) s" : "–"
                let line = String(format: "\r\u{1B}[K%@: %d/%d pages, %.1f/s, ETA %@", self.definition.name, done, self.total, rate, eta)
                FileHandle.standardError.write(Data(line.utf8))
                Thread.sleep(forTimeInterval: 1)
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
        thread.start()
    }

    private func log(_ text: String, raw: Bool = false) {
        let line = raw ? text + "\n" : "runnel run: " + text + "\n"
        FileHandle.standardError.write(Data((showProgress ? "\r\u{1B}[K" : "") .utf8) + Data(line.utf8))
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
