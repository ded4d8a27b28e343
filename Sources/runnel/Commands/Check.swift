import ArgumentParser
import Foundation
import Logging
import RunnelProtocol
import RunnelStage
import RunnelSupervisor

#if canImport(Glibc)
import Glibc
#endif

struct Check: ParsableCommand {
    /// The subcommands `runnel NAME` runs as a stage, which a `[[stage]]` without `command` names.
    static let stageCommands = ([Fetch.self, Parse.self, Enrich.self, Store.self, Relay.self, Wrap.self] as [any ParsableCommand.Type])
        .map { $0._commandName }

    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check a pipeline file without starting it: its TOML, keys, values, commands and message types.",
        usage: "runnel check <file> [<options>]",
        discussion: """
            Reads the pipeline file as runnel run does, looks up each stage's program, asks \
            every stage to describe itself (STAGE --describe, all within --timeout) and \
            checks that each accepts what the one before it emits. It reports every problem, \
            not only the first, each as FILE:LINE: what is wrong; what to do, and exits 78 \
            (EX_CONFIG). A valid pipeline gets one line and exit 0:

              runnel check Examples/news.toml
              Examples/news.toml: 4 stages, fetch → parse → enrich → store, types match

            What a pipeline file means by the keys it leaves out:

            """ + PipelineDefaults.text.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")
    )

    @Argument(help: "The pipeline file.")
    var file: String

    @Option(
        help: .value(
            "How long the stages have, together, to describe themselves; one still silent then is killed.",
            default: TimeSpan(PipelineDefaults.describeTimeout), example: "30s", valueName: "duration"),
        transform: TimeSpan.argument("--timeout", range: .milliseconds(1) ... .maximum))
    var timeout = TimeSpan(PipelineDefaults.describeTimeout)

    func run() throws {
        let read: (definition: PipelineDefinition?, problems: [PipelineProblem])
        do {
            read = try PipelineDefinition.read(contentsOf: file)
        } catch {
            Standard.error("runnel check: \(error.code.name): \(error.message)\n")
            throw ExitStatus(error, from: .pipelineFile).exitCode
        }
        var problems = read.problems
        var notice: String?
        if let definition = read.definition {
            for warning in definition.warnings { Deprecation.warn(warning) }
            // The stages run in the file's directory, so their relative paths are checked there.
            if chdir(definition.directory) != 0 {
                let error = RunnelError.posix(errno, "cannot enter \(definition.directory), where the stages run")
                Standard.error("runnel check: \(error.code.name): \(error.message)\n")
                throw ExitStatus(error).exitCode
            }
            let describer = StageDescriber(
                runnel: Self.executablePath(), timeout: timeout.duration, builtInStages: Self.stageCommands)
            let described = describer.problems(in: definition)
            problems += described.problems
            problems += Self.sourceProblems(definition)
            notice = StageDescriber.unkeptOutputs(definition, services: described.services)
        }
        guard problems.isEmpty, let definition = read.definition else {
            Self.report(problems.sorted(by: { ($0.line ?? 0) < ($1.line ?? 0) }), in: file)
            throw ExitStatus.configuration.exitCode
        }
        print(Self.summary(definition, file: file))
        if let notice {
            if RunnelLogging.isJSON {
                Logger(label: "runnel").notice("\(notice)", metadata: ["file": "\(file)"])
            } else {
                Standard.error("runnel check: note: \(notice)\n")
            }
        }
    }

    /// A URL file or page directory that `runnel run` would not find.
    static func sourceProblems(_ definition: PipelineDefinition) -> [PipelineProblem] {
        var isDirectory: ObjCBool = false
        switch definition.source {
        case let .urls(path):
            let resolved = definition.resolve(path)
            guard resolved != "-", !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) || isDirectory.boolValue
            else { return [] }
            return [
                PipelineProblem(
                    file: definition.file, line: definition.sourceLine, "key \"urls\": the URL file \(resolved) does not exist",
                    fix: "paths are relative to the pipeline file's directory (the current one for a pipe)")
            ]
        case let .directory(path):
            let resolved = definition.resolve(path)
            guard !FileManager.default.fileExists(atPath: resolved, isDirectory: &isDirectory) || !isDirectory.boolValue else { return [] }
            return [
                PipelineProblem(
                    file: definition.file, line: definition.sourceLine, "key \"directory\": the page directory \(resolved) does not exist",
                    fix: "paths are relative to the pipeline file's directory (the current one for a pipe)")
            ]
        }
    }

    /// Prints each problem on stderr as `FILE:LINE: problem; fix` (its details indented below),
    /// then how many there were; with `--log-format json`, logs each as an error with `file`,
    /// `line` and `fix`, so stderr stays JSON lines.
    static func report(_ problems: [PipelineProblem], in file: String) {
        let count = "\(file): \(problems.count) problem\(problems.count == 1 ? "" : "s")"
        guard RunnelLogging.isJSON else {
            for problem in problems { Standard.error("\(problem)\n") }
            Standard.error(count + "\n")
            return
        }
        let logger = Logger(label: "runnel")
        for problem in problems {
            var metadata: Logger.Metadata = ["file": "\(problem.file)", "code": "\(problem.code.name)"]
            if let line = problem.line { metadata["line"] = "\(line)" }
            if let fix = problem.fix { metadata["fix"] = "\(fix)" }
            if !problem.details.isEmpty { metadata["details"] = .array(problem.details.map { .string($0) }) }
            logger.error("\(problem.message)", metadata: metadata)
        }
        logger.error("\(count)")
    }

    /// `news.toml: 4 stages, fetch → parse → enrich → store, types match`.
    static func summary(_ definition: PipelineDefinition, file: String) -> String {
        let count = definition.stages.count
        var text = "\(file): \(count) stage\(count == 1 ? "" : "s"), \(definition.stages.map(\.name).joined(separator: " → ")), types match"
        if definition.isMultiHost { text += ", on hosts \(definition.hosts.map(\.name).joined(separator: ", "))" }
        if let nats = definition.natsLinks { text += ", linked through JetStream at \(nats.base.serverURL) (subjects \(nats.prefix).STAGE)" }
        return text
    }

    /// This program, to ask the built-in stages with.
    static func executablePath() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}
