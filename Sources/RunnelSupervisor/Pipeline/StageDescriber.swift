import Foundation
import RunnelProtocol
import RunnelTransport

#if canImport(Glibc)
import Glibc
#endif

/// Asks a pipeline's stages what they are (`STAGE … --describe`) and checks that each accepts
/// what the one before it emits, before anything is started.
///
/// Every stage is asked at once, under one deadline: a command that does not answer in time is
/// killed (its whole process group), and one that is not a Runnel stage is reported with its exit
/// status and the first lines of its stderr. Commands run in the current directory: the
/// supervisor and `runnel check` run from the pipeline file's directory, as the stages do.
///
/// ```swift
/// let describer = StageDescriber(runnel: "/usr/local/bin/runnel")
/// let services = try describer.check(definition)   // throws FAILED_PRECONDITION, every problem a line
/// ```
///
/// The calls block the calling thread until every stage has answered or the deadline passed
/// (``timeout``, 10 s by default); call them before the service group starts.
public struct StageDescriber: Sendable {
    /// The `runnel` executable that built-in stages (those without `command`) run as.
    public var runnel: String
    /// How long the stages together have to answer.
    public var timeout: Duration
    /// The environment the stages get, each with its own `env` on top.
    public var environment: [String: String]
    /// The names `runnel NAME` runs as a stage (`fetch`, `parse`, …); `nil`: do not check names
    /// before asking.
    public var builtInStages: [String]?

    /// The most of a stage's stdout read (a service definition is a few KiB), and of its stderr kept.
    static let maxOutput = 4 << 20
    static let maxErrorOutput = 16 << 10
    /// How many lines of a failed command's stderr a problem shows.
    static let errorLines = 6

    public init(
        runnel: String, timeout: Duration = PipelineDefaults.describeTimeout,
        environment: [String: String] = ProcessInfo.processInfo.environment, builtInStages: [String]? = nil
    ) {
        self.runnel = runnel
        self.timeout = timeout
        self.environment = environment
        self.builtInStages = builtInStages
    }

    /// The command a stage runs as: its `command`, or `runnel NAME`, then its `args`.
    public func command(of stage: PipelineDefinition.Stage) -> [String] {
        (stage.command ?? [runnel, stage.name]) + stage.args
    }

    /// The command that asks a stage to describe itself: `--describe` after a built-in stage's
    /// name (so it comes before a `--` in its args, as `wrap`'s have), after the args of a
    /// command of its own.
    public func describeCommand(of stage: PipelineDefinition.Stage) -> [String] {
        stage.command == nil ? [runnel, stage.name, "--describe"] + stage.args : command(of: stage) + ["--describe"]
    }

    /// Describes every stage and checks their types, for the supervisor.
    /// - Returns: each stage's service definition, in the pipeline's order.
    /// - Throws: ``RunnelError`` `FAILED_PRECONDITION` listing every problem, one a line
    ///   (`news.toml:13: fetch emits page.fetched but store accepts only …; insert a stage …`).
    public func check(_ definition: PipelineDefinition) throws(RunnelError) -> [ServiceDefinition] {
        let (services, problems) = self.problems(in: definition)
        guard problems.isEmpty else { throw PipelineProblem.error(problems) }
        return services.compactMap { $0 }
    }

    /// Every problem with the stages' commands and types, for `runnel check`.
    /// - Returns: each stage's service definition where it gave one, and the problems in the
    ///   order of their lines.
    public func problems(in definition: PipelineDefinition) -> (services: [ServiceDefinition?], problems: [PipelineProblem]) {
        var problems: [PipelineProblem] = []
        var askable: [PipelineDefinition.Stage] = []
        for stage in definition.stages {
            if let problem = commandProblem(stage, file: definition.file) {
                problems.append(problem)
            } else {
                askable.append(stage)
            }
        }
        let answers = describe(askable, file: definition.file)
        var services: [ServiceDefinition?] = []
        for stage in definition.stages {
            switch askable.firstIndex(of: stage).map({ answers[$0] }) {
            case let .success(service)?: services.append(service)
            case let .failure(problem)?:
                problems.append(problem)
                services.append(nil)
            case nil: services.append(nil)
            }
        }
        problems += Self.typeProblems(definition, services: services)
        return (services, problems.sorted(by: PipelineProblem.inFileOrder))
    }

    /// Whether a stage's program can be found: a built-in name that `runnel` has, or a `command`
    /// whose program is on `PATH` (or at its path).
    func commandProblem(_ stage: PipelineDefinition.Stage, file: String) -> PipelineProblem? {
        guard let command = stage.command else {
            guard let builtIns = builtInStages, !builtIns.contains(stage.name) else { return nil }
            let own = "give a stage of your own a command = [\"PROGRAM\", …]"
            let fix = PipelineProblem.suggestion(for: stage.name, among: builtIns).map { "did you mean \"\($0)\"? Or \(own)" } ?? own
            return PipelineProblem(
                .command, file: file, line: stage.line,
                "stage \"\(stage.name)\" is not a runnel stage (runnel's are \(builtIns.joined(separator: ", ")))", fix: fix)
        }
        let program = command[0]
        if program.contains("/") {
            guard access(program, X_OK) != 0 else { return nil }
            let reason = String(cString: strerror(errno))
            return PipelineProblem(
                .command, file: file, line: stage.line, "stage \(stage.name): cannot run \(program): \(reason)",
                fix: "paths are relative to the pipeline file's directory (the current one for a pipe)")
        }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            var info = stat()
            if stat(candidate, &info) == 0, (info.st_mode & S_IFMT) != S_IFDIR, access(candidate, X_OK) == 0 { return nil }
        }
        return PipelineProblem(
            .command, file: file, line: stage.line, "stage \(stage.name): command not found: \(program) (not in PATH)",
            fix: "install it, or give its path in command")
    }

    /// Asks each stage for its service definition, all at once, within ``timeout``.
    /// - Returns: one result per stage, in order.
    public func describe(_ stages: [PipelineDefinition.Stage], file: String) -> [Result<ServiceDefinition, PipelineProblem>] {
        var asked: [Asked] = []
        var results: [Result<ServiceDefinition, PipelineProblem>?] = Array(repeating: nil, count: stages.count)
        for (index, stage) in stages.enumerated() {
            let arguments = describeCommand(of: stage)
            do {
                let spawned = try ChildProcess.spawn(
                    arguments, environment: environment.merging(stage.environment) { $1 }, listening: nil)
                asked.append(Asked(index: index, arguments: arguments, pid: spawned.pid, stdout: spawned.stdout, stderr: spawned.stderr))
            } catch {
                results[index] = .failure(
                    PipelineProblem(.command, file: file, line: stage.line, "stage \(stage.name): \(error.message)"))
            }
        }
        let deadline = ContinuousClock.now + timeout
        readAll(&asked, until: deadline)
        for var child in asked {
            let stage = stages[child.index]
            let timedOut = child.isOpen
            child.finish()
            results[child.index] = Self.result(of: child, stage: stage, file: file, timedOut: timedOut, timeout: timeout)
        }
        return results.map { $0! }
    }

    /// Reads every child's stdout and stderr until each is closed or `deadline` passes.
    private func readAll(_ asked: inout [Asked], until deadline: ContinuousClock.Instant) {
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while asked.contains(where: \.isOpen) {
            let remaining = deadline - .now
            guard remaining > .zero else { return }
            var descriptors: [pollfd] = []
            var owners: [(child: Int, isError: Bool)] = []
            for (n, child) in asked.enumerated() {
                if child.stdout >= 0 {
                    descriptors.append(pollfd(fd: child.stdout, events: Int16(POLLIN), revents: 0))
                    owners.append((n, false))
                }
                if child.stderr >= 0 {
                    descriptors.append(pollfd(fd: child.stderr, events: Int16(POLLIN), revents: 0))
                    owners.append((n, true))
                }
            }
            let milliseconds = Int32(clamping: remaining.components.seconds * 1000 + remaining.components.attoseconds / 1_000_000_000_000_000 + 1)
            let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready < 0 {
                if errno == EINTR { continue }
                return
            }
            for (slot, descriptor) in descriptors.enumerated() where descriptor.revents != 0 {
                let (n, isError) = owners[slot]
                let count = read(descriptor.fd, &buffer, buffer.count)
                if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if count <= 0 {
                    asked[n].close(isError: isError)
                } else {
                    asked[n].append(buffer[0..<count], isError: isError)
                }
            }
        }
    }

    /// A child's answer as a service definition, or the problem with it.
    private static func result(
        of child: Asked, stage: PipelineDefinition.Stage, file: String, timedOut: Bool, timeout: Duration
    ) -> Result<ServiceDefinition, PipelineProblem> {
        let shown = child.arguments.map { Self.shellQuoted(SecretRedaction.redacting($0)) }.joined(separator: " ")
        if timedOut {
            return .failure(
                PipelineProblem(
                    .command, file: file, line: stage.line,
                    "stage \(stage.name) did not describe itself within \(TimeSpan(timeout)) (\(shown)); it was killed",
                    fix: "is it a Runnel stage? A stage prints its service definition for --describe and exits",
                    details: child.errorLines(Self.errorLines)))
        }
        if let service = try? JSONDecoder().decode(ServiceDefinition.self, from: Data(child.output)),
            child.exitedNormally || child.wasKilled
        {
            return .success(service)
        }
        let exit = child.rawStatus.map { ChildProcess.decode($0) }
        if case .exited(64) = exit, let complaint = child.errorLines(Self.errorLines).first(where: { $0.contains("Error: ") }),
            !complaint.contains("'--describe'")
        {
            // EX_USAGE: the stage is there and refused what `args` gave it (a misspelt flag); one
            // that does not know --describe is no stage (below).
            let help = stage.command == nil ? "runnel \(stage.name) --help" : "the program's --help"
            return .failure(
                PipelineProblem(
                    .command, file: file, line: stage.line,
                    "stage \(stage.name) refused its arguments: \(complaint.replacingOccurrences(of: "Error: ", with: "").trimmingCharacters(in: .whitespaces))",
                    fix: "\(help) lists what it takes; the command was \(shown)",
                    details: []))
        }
        let status = exit?.description ?? "an unknown status"
        let what = child.output.isEmpty ? "printed nothing on stdout" : "printed no service definition on stdout"
        return .failure(
            PipelineProblem(
                .command, file: file, line: stage.line, "stage \(stage.name) did not describe itself: \(shown) \(what) and ended with \(status)",
                fix: "is it a Runnel stage? A stage prints its service definition (JSON, Protocol/PROTOCOL.md) for --describe",
                details: child.errorLines(Self.errorLines)))
    }

    /// `word`, or `'two words'`, as a shell would need it.
    static func shellQuoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || "0123456789-_./=:,@%+".unicodeScalars.contains($0) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    /// What to tell about the last stage's outputs when a run would keep them nowhere: `runnel run`
    /// counts them, and keeps them only when `LAST->output` is captured. A store's receipts
    /// (`article.stored`) and error records (kept in the stage's dead-letter log) are not data.
    /// - Returns: the notice, or nil when there is nothing to keep or it is kept.
    public static func unkeptOutputs(_ definition: PipelineDefinition, services: [ServiceDefinition?]) -> String? {
        guard let stage = definition.stages.last, let service = services.last ?? nil,
            !definition.captures.contains(where: { $0.from == stage.name && $0.to == PipelineDefinition.Capture.output })
        else { return nil }
        let data = service.emits.filter { $0 != MessageType.articleStored && $0 != MessageType.error }
        guard !data.isEmpty else { return nil }
        let types = data == ["*"] ? "every message it passes on" : data.joined(separator: ", ")
        let keep = stage.command == nil
            ? "capture = [\"\(stage.name)->output\"] at the top of the file keeps them in the log .runnel/\(definition.name)/capture/\(stage.name)-output.jsonl.zst (runnel cat reads it)"
            : "end the pipeline with a stage that keeps them (store)"
        return "the last stage, \(stage.name), emits \(types): runnel run counts its outputs and keeps none of them; \(keep)"
    }

    /// The problems between neighbours: a stage that does not accept a type the one before it
    /// (or the source, for the first) emits. Stages without a definition are skipped.
    public static func typeProblems(_ definition: PipelineDefinition, services: [ServiceDefinition?]) -> [PipelineProblem] {
        var problems: [PipelineProblem] = []
        var previous: (name: String, emits: [String])? = ("the source", [MessageType.urlRequested])
        for (stage, service) in zip(definition.stages, services) {
            guard let service else {
                previous = nil
                continue
            }
            if let before = previous, !service.accepts.contains("*"), !before.emits.contains("*") {
                let refused = before.emits.filter { $0 != MessageType.error && !service.accepts.contains($0) }
                if !refused.isEmpty {
                    let types = refused.joined(separator: ", ")
                    let wanted = service.accepts.filter { $0 != MessageType.error }.joined(separator: " or ")
                    problems.append(
                        PipelineProblem(
                            .types, file: definition.file, line: stage.line,
                            "\(before.name) emits \(types) but \(stage.name) accepts only \(service.accepts.joined(separator: ", "))",
                            fix: "insert a stage between them that turns \(types) into \(wanted), or change \(stage.name)"))
                }
            }
            previous = (stage.name, service.emits)
        }
        return problems
    }
}

/// One stage asked to describe itself: its pipes, what it wrote, and how it ended.
private struct Asked {
    var index: Int
    var arguments: [String]
    var pid: pid_t
    var stdout: Int32
    var stderr: Int32
    var output: [UInt8] = []
    var errorOutput: [UInt8] = []
    /// Its `waitpid` status, once reaped.
    var rawStatus: Int32?
    /// Whether it was killed after closing its output (it had said all it would).
    var wasKilled = false

    var isOpen: Bool { stdout >= 0 || stderr >= 0 }

    mutating func append(_ bytes: ArraySlice<UInt8>, isError: Bool) {
        if isError {
            errorOutput += bytes.prefix(StageDescriber.maxErrorOutput - errorOutput.count)
        } else if output.count + bytes.count <= StageDescriber.maxOutput {
            output += bytes
        } else {
            close(isError: false)  // far more than a service definition: not one
            output = Array("(more than \(StageDescriber.maxOutput) bytes)".utf8)
        }
    }

    mutating func close(isError: Bool) {
        if isError {
            if stderr >= 0 { _ = Glibc.close(stderr) }
            stderr = -1
        } else {
            if stdout >= 0 { _ = Glibc.close(stdout) }
            stdout = -1
        }
    }

    /// Closes its pipes and reaps it: at once if it has exited, else after SIGKILL to its group
    /// (past the deadline, or when it closed its output but lives on).
    mutating func finish() {
        let stillOpen = isOpen
        close(isError: false)
        close(isError: true)
        var raw: Int32 = 0
        var reaped = waitpid(pid, &raw, WNOHANG)
        if reaped == 0 {
            wasKilled = !stillOpen
            kill(-pid, SIGKILL)
            repeat { reaped = waitpid(pid, &raw, 0) } while reaped < 0 && errno == EINTR
        }
        rawStatus = reaped == pid ? raw : nil
    }

    /// Whether it exited with status 0.
    var exitedNormally: Bool { rawStatus == 0 }

    /// The first `count` lines of its stderr, each cut at 200 characters.
    func errorLines(_ count: Int) -> [String] {
        let text = String(decoding: errorOutput, as: UTF8.self)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).prefix(count + 1).map { line in
            line.count > 200 ? String(line.prefix(200)) + "…" : String(line)
        }
        if lines.count > count {
            lines[count] = "…"
        }
        return lines
    }
}
