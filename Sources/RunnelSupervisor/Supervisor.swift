import Dispatch
import Foundation
import Logging
import RunnelStage
import RunnelProtocol
import RunnelTransport
import ServiceLifecycle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Runs a pipeline: binds every stage's socket, starts the stages and the source, restarts what
/// fails, answers `runnel status` on a control socket, and drains from the source down on
/// SIGTERM, SIGINT, `runnel stop`, or when the source is done.
///
/// Every decision is the ``SupervisorMachine``'s; this actor feeds it events (a child exited —
/// reaped on SIGCHLD —, a timer fired, a stop or restart was asked for) and performs the actions
/// it returns (spawn, signal, schedule, log, finish). It runs as a ``Service`` in a
/// `ServiceGroup` that shuts down gracefully on SIGTERM, SIGINT and SIGHUP (a ``SignalWatch``).
///
/// ```swift
/// let supervisor = try Supervisor(definition: definition, runnel: "/usr/bin/runnel", progress: false)
/// let status = try await supervisor.run()   // 0, or 1 when it gave up
/// ```
public actor Supervisor {
    /// How to start one member (a stage or the source), fixed for the run.
    struct Launch: Sendable {
        var name: String
        var arguments: [String]
        var environment: [String: String]
        var socket: ListeningSocket?
        var statisticsPath: String
        /// Its links to stages on other hosts, for `runnel status`.
        var peers: String?
        /// The last stage: its stdout is the pipeline's output, counted rather than logged.
        var isOutput: Bool
        var isSource: Bool
    }

    /// What `runnel status` and the metrics read while the actor works: published after every event.
    struct Snapshot: Sendable {
        var members: [SupervisorMachine.Member] = []
        var outputs = 0
        var finished = false
        var total = 0
    }

    public nonisolated let definition: PipelineDefinition
    public nonisolated let runDirectory: String
    public nonisolated let stateDirectory: String
    /// The host this supervisor runs the part of, when the pipeline places stages on hosts.
    public nonisolated let host: String?
    /// Where to serve Prometheus metrics, if anywhere.
    public nonisolated let metricsEndpoint: Endpoint?
    /// The `runnel` version, for the metrics' `runnel_build_info`.
    public nonisolated let version: String
    nonisolated let runnel: String
    nonisolated let placement: (stages: [PipelineDefinition.PlacedStage], runsSource: Bool)
    private nonisolated let showProgress: Bool
    private nonisolated let standardError: StandardError
    private nonisolated let logger: Logger
    private nonisolated let logFormat: LogFormat
    nonisolated let snapshot = Mutex(Snapshot())
    nonisolated let startedAt = ContinuousClock.now
    private nonisolated let startedDate = Date()
    /// Each member's statistics file (a stage that runs its own command never writes one).
    nonisolated let statisticsPaths: [String: String]
    /// Each stage's links to stages on other hosts.
    nonisolated let peers: [String: String?]

    private var machine = SupervisorMachine(members: [])
    private var launches: [Launch] = []
    /// What to say at the end when the last stage's outputs were kept nowhere
    /// (``StageDescriber/unkeptOutputs(_:services:)``).
    private var unkeptOutputs: String?
    private var total = 0
    /// The logs of messages given up on the way (the source's dead letters, each built-in
    /// stage's undelivered outputs), with what to say of them and their size when the run
    /// began: the end of the run names those that grew.
    private var givenUpLogs: [(path: String, meaning: String, size: Int)] = []
    private var timers: [SupervisorMachine.TimerID: Task<Void, Never>] = [:]
    /// The tasks reading each child's stdout and stderr, until it has exited and they are read.
    private var readers: [pid_t: [Task<Void, Never>]] = [:]
    private var exitCode: Int32?
    private var finishWaiter: CheckedContinuation<Void, Never>?
    private var outputClosed = false
    private var groups: ProcessGroupRecord
    /// Reads the JetStream queues' depths once the source is done (``Supervisor/watchQueues()``).
    var queueWatcher: Task<Void, Never>?

    /// - Parameters:
    ///   - runnel: the `runnel` executable that built-in stages run as.
    ///   - host: which of the pipeline's `[hosts]` this is (`runnel run --host`); `nil` on one host.
    ///   - metrics: where to serve Prometheus metrics (`tcp://HOST:PORT`), if anywhere.
    /// - Throws: ``RunnelError`` when `host` does not fit the pipeline's `[hosts]`.
    public init(
        definition: PipelineDefinition, runnel: String, progress: Bool, host: String? = nil, metrics: Endpoint? = nil,
        version: String = "unknown"
    ) throws(RunnelError) {
        self.version = version
        var settings = RunnelLogging.settings ?? LogSettings()
        settings.stage = "run"
        settings.pipeline = definition.name + (host.map { "@" + $0 } ?? "")
        logFormat = settings.format
        let standardError = StandardError()
        self.standardError = standardError
        let output = LogOutput { line in standardError.writeLine(line) }
        var logger = Logger(label: "runnel.supervisor") { label in RunnelLogHandler(label: label, settings: settings, output: output) }
        logger[metadataKey: "stage"] = "run"
        logger[metadataKey: "pipeline"] = .string(settings.pipeline ?? definition.name)
        logger.logLevel = settings.level
        self.logger = logger
        self.definition = definition
        self.runnel = runnel
        self.host = host
        self.metricsEndpoint = metrics
        placement = try definition.placement(on: host)
        showProgress = progress
        runDirectory = Self.runDirectory(name: definition.name, host: host)
        stateDirectory = definition.directory + "/.runnel/" + definition.name + (host.map { "@" + $0 } ?? "")
        groups = ProcessGroupRecord(stateDirectory: stateDirectory)
        let runDirectory = runDirectory
        var paths = ["source": runDirectory + "/source.stats.json"]
        for placed in placement.stages { paths[placed.stage.name] = runDirectory + "/\(placed.stage.name).stats.json" }
        statisticsPaths = paths
        peers = Dictionary(placement.stages.map { ($0.stage.name, $0.peers) }, uniquingKeysWith: { first, _ in first })
    }

    /// The run directory of a pipeline named `name`, where its control socket is.
    /// On one host of several, `NAME@HOST` (so two hosts sharing a file system do not collide).
    public static func runDirectory(name: String, host: String? = nil) -> String {
        let base = ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"].map { $0 + "/runnel" } ?? "/tmp/runnel-\(getuid())"
        return base + "/" + name + (host.map { "@" + $0 } ?? "")
    }

    nonisolated var controlPath: String { runDirectory + "/control.sock" }

    // MARK: Run

    /// Runs the pipeline to its end. Returns the exit status for `runnel run`: 0, or 1 when it
    /// gave up on a stage or had to kill one that would not drain.
    /// - Throws: ``RunnelError`` when the pipeline cannot start (types that do not match, a
    ///   pipeline already running, a socket that cannot be bound); nothing is left running then.
    public func run() async throws(RunnelError) -> Int32 {
        signal(SIGPIPE, SIG_IGN)  // a closed stderr is an EPIPE to handle, not a death
        // The stages run in the pipeline file's directory, so its relative paths mean the same to
        // them as to the file (every path the supervisor keeps is absolute).
        guard chdir(definition.directory) == 0 else {
            throw RunnelError.posix(errno, "cannot enter the pipeline's directory \(definition.directory)")
        }
        // Every stage describes itself, under one deadline; a mismatch is refused before anything starts.
        let described = try StageDescriber(runnel: runnel).check(definition)
        unkeptOutputs = StageDescriber.unkeptOutputs(definition, services: described)
        try checkRemoteAuthentication()
        let leftovers = try await prepareDirectories()
        if !leftovers.isEmpty {
            log(.warning, "ended \(leftovers.count) process groups a previous supervisor of \(definition.name) left running (\(leftovers.map(String.init).joined(separator: ", ")))")
        }
        let urls = placement.runsSource ? try sourceFile() : ""
        total = definition.follow ? 0 : countLines(urls)  // following, there is no total
        snapshot.withLock { $0.total = total }
        launches = try makeLaunches(urls: urls)
        givenUpLogs = givenUpLogPaths().map { ($0.path, $0.meaning, Self.fileSize($0.path)) }
        machine = SupervisorMachine(
            members: launches.map { launch in
                let stage = definition.stages.first { $0.name == launch.name }
                return .init(
                    name: launch.name, restart: launch.isSource ? .transient : stage?.restart ?? .permanent,
                    replicas: launch.isSource ? 1 : stage?.replicas ?? 1, isSource: launch.isSource)
            },
            policy: definition.policy, shutdownTimeout: definition.shutdownTimeout, durableLinks: definition.natsLinks != nil)
        let control = try ControlService(path: controlPath) { [weak self] request in
            await self?.answer(request) ?? .error("the pipeline is shutting down", code: .unavailable)
        }
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: control, serviceName: "control")]
        if case let .tcp(host, port)? = metricsEndpoint {
            let metrics = try MetricsService(host: host, port: port, version: version) { [weak self] in
                self?.status() ?? PipelineStatus(pipeline: "", pid: Int(getpid()))
            }
            services.append(.init(service: metrics, serviceName: "metrics"))
            // The bound address, so that --metrics tcp://127.0.0.1:0 tells which port it got.
            log(.info, "metrics at http://\(metrics.address.dropFirst("tcp://".count))/metrics")
        }
        // The group stops its services in reverse order: the supervisor drains first, while the
        // control socket and the metrics still answer; they stop once it has finished.
        services.append(.init(service: SupervisorService(supervisor: self), successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "supervisor"))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [], cancellationSignals: [], logger: Self.groupLogger))
        // SIGTERM, SIGINT and SIGHUP (the terminal closed) shut the group down gracefully. Watched
        // here, not by the group, whose dispatch sources lose a signal sent while they start.
        let signals = SignalWatch([SIGTERM, SIGINT, SIGHUP]) { _ in Task { await group.triggerGracefulShutdown() } }
        defer { signals.cancel() }
        do {
            try await group.run()
        } catch {
            log(.error, "the supervisor failed: \(error)")
        }
        unlink(controlPath)  // removed by the control service; never left stale
        return exitCode ?? 1
    }

    /// The service group's own messages: errors only (a supervisor message goes through ``log``).
    private static let groupLogger = Logger(label: "runnel.run") { label in
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = .error
        return handler
    }

    /// The supervisor's part in the service group: starts the pipeline, and drains it on a
    /// graceful shutdown (SIGTERM, SIGINT, or SIGHUP: the terminal closed); returns when every
    /// member is down.
    struct SupervisorService: Service {
        let supervisor: Supervisor

        func run() async throws {
            await withGracefulShutdownHandler {
                await supervisor.runMachine()
            } onGracefulShutdown: {
                Task { await supervisor.stop(.signal("SIGTERM, SIGINT or SIGHUP")) }
            }
        }
    }

    /// Starts every member and waits until the machine finishes.
    func runMachine() async {
        let names = placement.stages.map(\.stage.name)
        let part = host.map { " on host \($0): \(names.joined(separator: ", ")) of" } ?? ":"
        log(.info, "starting \(definition.name)\(part) \(definition.stages.map(\.name).joined(separator: " → ")) (run directory \(runDirectory))")
        if placement.runsSource { sayIfTheSourceIsDone() }
        let progress = showProgress ? Task { await self.showProgressEverySecond() } : nil
        let pages = followPageDirectory()
        perform(machine.start(now: .now))
        if exitCode == nil {
            await withCheckedContinuation { finishWaiter = $0 }
        }
        pages?.cancel()
        progress?.cancel()
        standardError.clearProgress()
    }

    /// A run after a finished one sends nothing (the source says where it resumes): a person
    /// who emptied the database to start again must be told where the place is kept.
    private func sayIfTheSourceIsDone() {
        guard total > 0, cursorValue() >= total else { return }
        log(.notice, "all \(total) of the source's URLs were done by an earlier run, so this one sends nothing; to send them again: rm \(stateDirectory)/cursor")
    }

    /// Asks the pipeline to stop (drain from the source down).
    func stop(_ reason: SupervisorMachine.StopReason) {
        perform(machine.stopRequested(reason, now: .now))
    }

    /// `runnel restart STAGE`. - Returns: false when no member has that name.
    func restart(_ name: String) -> Bool {
        guard let actions = machine.restartRequested(name, now: .now) else { return false }
        perform(actions)
        return true
    }

    // MARK: Actions

    private func perform(_ actions: [SupervisorMachine.Action]) {
        for action in actions {
            switch action {
            case let .spawn(name):
                spawn(name)
            case let .signal(pids, number):
                for pid in pids { kill(pid, number) }
            case let .schedule(id, delay):
                timers[id] = Task { [weak self] in
                    try? await Task.sleep(for: delay)
                    guard !Task.isCancelled else { return }
                    await self?.fire(id)
                }
            case let .log(level, message):
                log(level, message)
            case let .finish(code):
                finish(code)
            case .watchQueues:
                watchQueues()
            }
        }
        publish()
    }

    /// Every JetStream queue between the stages is empty.
    func queuesEmptied() {
        perform(machine.queuesEmpty(now: .now))
    }

    private func fire(_ id: SupervisorMachine.TimerID) {
        timers[id] = nil
        perform(machine.timerFired(id, now: .now))
    }

    private func spawn(_ name: String) {
        guard let launch = launches.first(where: { $0.name == name }) else { return }
        var environment = ProcessInfo.processInfo.environment.merging(launch.environment) { $1 }
        environment["RUNNEL_SUPERVISOR_PID"] = String(getpid())  // a stage ends when we die
        environment["RUNNEL_PIPELINE"] = definition.name  // on each of its log lines
        let child: ChildProcess.Spawned
        do {
            // The source reads the supervisor's stdin when the pipeline file says urls = "-".
            child = try ChildProcess.spawn(
                launch.arguments, environment: environment, listening: launch.socket?.descriptor, inheritStdin: launch.isSource)
        } catch {
            perform(machine.spawnFailed(name, message: error.message, now: .now, jitter: Double.random(in: -1...1)))
            return
        }
        if child.stderr >= 0 { readOutput(child.stderr, of: name, pid: child.pid, isOutput: false) }
        if child.stdout >= 0 { readOutput(child.stdout, of: name, pid: child.pid, isOutput: launch.isOutput) }
        watchExit(of: child.pid, member: name)
        perform(machine.spawned(name, pid: child.pid, now: .now))
        groups.write(supervisor: getpid(), groups: machine.pids)
    }

    /// Each line a child writes to stderr is logged with the stage's name; the last stage's
    /// stdout is the pipeline's output and is counted instead.
    private func readOutput(_ descriptor: Int32, of name: String, pid: pid_t, isOutput: Bool) {
        let lines = OutputLines.stream(descriptor)
        let reader = Task { [weak self] in
            for await batch in lines {
                guard let self else { return }
                await self.childWrote(batch, member: name, isOutput: isOutput)
            }
        }
        readers[pid, default: []].append(reader)
    }

    /// Waits until what a child wrote before it exited has been read (its pipes reach end of
    /// file), at most `limit` (a grandchild may hold a pipe open), so that the outputs counted
    /// and the lines logged are all there when the machine hears of the exit.
    private func drainOutput(of pid: pid_t, within limit: Duration = .seconds(2)) async {
        let deadline = ContinuousClock.now + limit
        for reader in readers.removeValue(forKey: pid) ?? [] {
            let timeout = Task {
                try? await Task.sleep(until: deadline)
                reader.cancel()  // ends its `for await`
            }
            await reader.value
            timeout.cancel()
        }
    }

    private func childWrote(_ lines: [String], member: String, isOutput: Bool) {
        if isOutput {
            machine.countOutputs(lines.count)
            publish()
        } else {
            for line in lines { relay(line, of: member) }
        }
    }

    /// Waits for the exit of a child (``ChildReaper``: SIGCHLD, then `waitpid(pid, WNOHANG)` on
    /// the pids it watches only, never -1, which could take another's child).
    private func watchExit(of pid: pid_t, member name: String) {
        Task { [weak self] in
            // nil: reaped by someone else, so how it ended is unknown; not a normal end.
            let status = await ChildReaper.shared.exit(of: pid) ?? .exited(255)
            await self?.exited(pid, member: name, status: status)
        }
    }

    private func exited(_ pid: pid_t, member name: String, status: RestartPolicy.ExitStatus) async {
        await drainOutput(of: pid)
        unlink(tapSocket(name, pid: pid))  // left behind by a stage that was killed
        machine.sourcesDone(cursorValue())  // progress since the last stop, with the outputs
        perform(machine.exited(pid: pid, status: status, now: .now, jitter: Double.random(in: -1...1)))
        if exitCode == nil { groups.write(supervisor: getpid(), groups: machine.pids) }
    }

    private func finish(_ code: Int32) {
        guard exitCode == nil else { return }
        exitCode = code
        for task in timers.values { task.cancel() }
        timers = [:]
        queueWatcher?.cancel()
        let done = cursorValue()
        let seconds = Int(Date().timeIntervalSince(startedDate))
        log(.info, "stopped \(definition.name): \(done)\(total > 0 ? "/\(total)" : "") sources done, \(machine.outputs) outputs in \(seconds) s")
        // Said last, not first: a run whose stderr is read by `head -1` goes on until it has
        // something else to say.
        if let unkeptOutputs, machine.outputs > 0 { log(.notice, unkeptOutputs) }
        for given in givenUpLogs where Self.fileSize(given.path) > given.size {
            log(.warning, "\(given.meaning): runnel cat \(given.path) (with --originals: the messages, to send again)")
        }
        for launch in launches { launch.socket?.close() }
        groups.remove()
        publish()
        finishWaiter?.resume()
        finishWaiter = nil
    }

    /// The logs of given-up messages this host's members write, and what each holds.
    private nonisolated func givenUpLogPaths() -> [(path: String, meaning: String)] {
        var logs: [(path: String, meaning: String)] = []
        if placement.runsSource {
            logs.append((sourceDeadLetterPath, "some source messages were given up (the first stage refused them, or crashed on them every time)"))
        }
        let order = definition.stages.map(\.name)
        for placed in placement.stages where placed.stage.command == nil && !placed.isLast {
            let name = placed.stage.name
            let next = order.firstIndex(of: name).flatMap { $0 + 1 < order.count ? order[$0 + 1] : nil } ?? "the next stage"
            logs.append((undeliveredPath(of: name), "some of \(name)'s outputs were given up (\(next) refused them, or crashed on them every time)"))
        }
        return logs
    }

    private static func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.size] as? Int ?? 0
    }

    private func publish() {
        let members = machine.members
        let outputs = machine.outputs
        let finished = machine.isFinished
        snapshot.withLock {
            $0.members = members
            $0.outputs = outputs
            $0.finished = finished
        }
    }

    // MARK: Progress and log

    private func showProgressEverySecond() async {
        let start = (at: ContinuousClock.now, done: cursorValue())
        while !Task.isCancelled {
            let done = cursorValue()
            let elapsed = (ContinuousClock.now - start.at).seconds
            let rate = elapsed > 0 ? Double(done - start.done) / elapsed : 0
            if definition.follow {
                // No end to count down to: the source takes what is added until it is stopped.
                standardError.showProgress(String(format: "%@: %d pages, %.1f/s, following the source", definition.name, done, rate))
            } else {
                let left = max(total - done, 0)
                // Clamped before the conversion: a rate near zero must not make Int(_:) trap.
                let eta = rate > 0 ? "\(Int(min(Double(left) / rate, 1e9))) s" : "–"
                standardError.showProgress(String(format: "%@: %d/%d pages, %.1f/s, ETA %@", definition.name, done, total, rate, eta))
            }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Every supervisor message goes through here: swift-log, with the pipeline (and the stage
    /// it is about) as metadata, on the supervisor's stderr.
    func log(_ level: Logger.Level, _ text: String, stage: String? = nil) {
        var metadata: Logger.Metadata = [:]
        if let stage { metadata["member"] = .string(stage) }
        logger.log(level: level, "\(text)", metadata: metadata.isEmpty ? nil : metadata)
        noticeClosedOutput()
    }

    /// A line a child wrote to its stderr: `STAGE | line` in text; as it is in JSON (the stage's
    /// own logger already named it).
    private func relay(_ line: String, of member: String) {
        standardError.writeLine(logFormat == .json ? line : "\(member) | \(line)")
        noticeClosedOutput()
    }

    /// A closed stderr (`runnel run … 2>&1 | head -1`) stops the pipeline, quietly.
    private func noticeClosedOutput() {
        guard standardError.isClosed, !outputClosed else { return }
        outputClosed = true
        perform(machine.stopRequested(.outputClosed, now: .now))
    }
}
