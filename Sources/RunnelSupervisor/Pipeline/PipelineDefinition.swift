import Foundation
import RunnelProtocol
import RunnelTransport

/// A pipeline file, read and checked: the source, the stages in order, and how they restart.
///
/// ```toml
/// capture = ["parse->enrich"]   # links to record (see ``Capture``); top-level keys come first
///
/// [pipeline]
/// name = "news"
/// strategy = "rest_for_one"     # one_for_one | rest_for_one | one_for_all
/// max_restarts = 5              # more restarts than this within period, and it gives up
/// period = "30s"                # durations: 250ms, 30s, 10m, 1h
/// backoff = { initial = "50ms", max = "2s", jitter = 0.1 }
/// shutdown_timeout = "1m"
/// links = "nats://127.0.0.1:4222"  # JetStream work queues between the stages (see ``Links``)
///
/// [source]
/// urls = "urls.txt"             # one URL per line; or directory = "pages" (every page in it)
/// follow = true                 # go on with the lines (or pages) added later, until stopped
///
/// [[stage]]
/// name = "fetch"                # runs `runnel fetch` unless `command` says otherwise
/// args = ["--allow-private"]
/// restart = "transient"         # permanent | transient | temporary
/// replicas = 2
/// env = { RUST_LOG = "info" }
/// ```
///
/// A key left out takes its value from ``PipelineDefaults``, the one place they are written.
/// The file is parsed by TOMLKit; ``TOMLLineIndex`` finds each key's line for the messages.
///
/// Each stage listens on a socket the supervisor binds and sends to the next stage's (or, with
/// `links = "nats://…"`, reads and writes JetStream work queues); the last stage writes to the
/// supervisor. Relative paths are relative to the file's directory, and the
/// stages run there.
public struct PipelineDefinition: Sendable {
    /// One `[[stage]]`: what runs, how many, and what happens when it exits.
    public struct Stage: Sendable, Equatable {
        /// Its name, unique in the pipeline: `runnel NAME` runs it unless it has a ``command``.
        public var name: String
        /// The program and its first arguments; `nil` runs `runnel NAME`.
        public var command: [String]?
        /// Arguments after the command (`args`).
        public var args: [String]
        /// Variables added to the stage's environment (`env`).
        public var environment: [String: String]
        /// Whether it is restarted when it exits (`restart`, ``PipelineDefaults/restart``).
        public var restart: RestartPolicy.RestartType
        /// How many processes share its socket (`replicas`, ``PipelineDefaults/replicas``).
        public var replicas: Int
        /// Where the stage is defined, for messages.
        public var line: Int
        /// The host it runs on (`host = "a"`, a key of `[hosts]`); `nil` on a single host.
        public var host: String? = nil
        /// The TCP port it listens on when its upstream is on another host.
        public var port: Int? = nil
        /// The line of `host`, for messages.
        var hostLine: Int? = nil
    }

    /// Where the pipeline's URLs come from (`[source]`).
    public enum Source: Sendable, Equatable {
        /// A file with one URL (or JSON message) per line; `-` is stdin.
        case urls(String)
        /// Every page file in a directory, as `file://` URLs, sorted.
        case directory(String)
    }

    /// `name` in `[pipeline]`, or the file's name without `.toml`.
    public var name: String
    /// The file, as it was named (in messages).
    public var file: String
    /// The file's directory: relative paths are resolved there, and the stages run there.
    public var directory: String
    public var source: Source
    /// The line of `urls` or `directory` in `[source]`, for messages.
    public var sourceLine: Int? = nil
    /// `follow = true` in `[source]`: the run goes on past the last URL, taking the lines added
    /// to the URL file, or the pages added to the directory, until it is stopped.
    public var follow = false
    /// The stages, in the order messages flow.
    public var stages: [Stage]
    /// `strategy`, `max_restarts`, `period` and `backoff`.
    public var policy: RestartPolicy.Configuration
    /// How long a stopping stage has before SIGKILL (`shutdown_timeout`).
    public var shutdownTimeout: Duration
    /// The links to capture (top-level `capture = ["parse->enrich", …]`).
    public var captures: [Capture] = []
    /// The hosts stages are placed on (`[hosts.NAME]`); empty when everything runs on one host.
    public var hosts: [Host] = []
    /// Certificates for links between hosts (`[tls]`): with them those links are `tls://`.
    public var tls: TLSFiles?
    /// The shared key for links between hosts (`key_file` in `[pipeline]`).
    public var keyFile: String?
    /// What links the stages (`links` in `[pipeline]`, ``PipelineDefaults/links``).
    public var links: Links = .unix
    /// What the file says in a way that still works but will not in the next release
    /// (`period_s = 60` for `period = "60s"`), one line each, for the command to show.
    public var warnings: [String] = []

    /// Reads and checks a pipeline file.
    /// - Throws: ``RunnelError`` `NOT_FOUND` when the file cannot be read; `INVALID_ARGUMENT`
    ///   listing every problem, one a line, each as `FILE:LINE: key "KEY": what is wrong`.
    public init(contentsOf path: String) throws(RunnelError) {
        try self.init(text: try Self.contents(of: path), file: path)
    }

    /// Reads and checks the text of a pipeline file named `file`.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` listing every problem, one a line.
    public init(text: String, file: String) throws(RunnelError) {
        let (definition, problems) = Self.read(text: text, file: file)
        guard let definition, problems.isEmpty else {
            throw PipelineProblem.error(problems)
        }
        self = definition
    }

    /// Reads a pipeline file and notes every problem in it instead of stopping at the first, for
    /// `runnel check`.
    /// - Returns: the definition, as far as it could be read (`nil` when the TOML itself is
    ///   wrong), and the problems in the order of their lines.
    /// - Throws: ``RunnelError`` `NOT_FOUND` when the file cannot be read.
    public static func read(contentsOf path: String) throws(RunnelError) -> (definition: PipelineDefinition?, problems: [PipelineProblem]) {
        read(text: try contents(of: path), file: path)
    }

    /// Reads the text of a pipeline file named `file`, noting every problem.
    public static func read(text: String, file: String) -> (definition: PipelineDefinition?, problems: [PipelineProblem]) {
        let toml: PipelineTOML
        do {
            toml = try PipelineTOML(parsing: text)
        } catch {
            return (nil, [PipelineProblem(file: file, line: error.line, error.message)])
        }
        var reader = PipelineReader(file: file)
        let definition = PipelineDefinition(toml.root, file: file, reader: &reader)
        return (definition, reader.problems.sorted(by: PipelineProblem.inFileOrder))
    }

    /// The directory a pipeline file's relative paths start from: its own, or the current one
    /// for a file that lives in no directory (a pipe: `runnel run <(make-pipeline)` reads
    /// `/dev/fd/63`).
    static func relativePathsBase(_ file: String) -> String {
        var info = stat()
        if stat(file, &info) == 0 && (info.st_mode & S_IFMT) != S_IFREG {
            return FileManager.default.currentDirectoryPath
        }
        return URL(fileURLWithPath: file).deletingLastPathComponent().path
    }

    /// The file's text, read as a stream: a pipe (`runnel check <(make-pipeline)`) or a device
    /// reads as well as a regular file.
    private static func contents(of path: String) throws(RunnelError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RunnelError.posix(errno, "cannot read the pipeline file \(path)") }
        defer { close(fd) }
        let input = FileInput(descriptor: fd, name: path, chunkSize: 64 << 10)
        var bytes: [UInt8] = []
        while let chunk = try input.readChunk() {
            bytes += chunk
            guard bytes.count <= PipelineDefaults.maxFileSize else {
                throw RunnelError(
                    .invalidArgument,
                    "\(path) is over \(PipelineDefaults.maxFileSize) bytes; a pipeline file is read up to that (they are a few KiB)")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The keys each table takes.
    enum Keys {
        static let top = ["pipeline", "source", "stage", "capture", "hosts", "tls"]
        static let pipeline = [
            "name", "strategy", "max_restarts", "period", "period_s", "backoff", "shutdown_timeout", "shutdown_timeout_s", "key_file",
            "links",
        ]
        static let backoff = ["initial", "max", "initial_ms", "max_ms", "jitter"]
        static let source = ["urls", "directory", "follow"]
        static let stage = ["name", "command", "args", "env", "restart", "replicas", "host", "port"]
        static let host = ["address", "bind", "tls_cert", "tls_key"]
        static let tls = ["cert", "key", "ca", "client_cert", "client_key", "require_client_cert"]

        /// Where each key belongs, to point a key written in the wrong table to its own.
        static let homes: [String: String] = {
            var homes: [String: String] = [:]
            for (table, keys) in [("[pipeline]", pipeline), ("[source]", source), ("[[stage]]", stage), ("[tls]", tls)] {
                for key in keys where homes[key] == nil { homes[key] = table }
            }
            homes["capture"] = "the top of the file, before the first [table]"
            return homes
        }()
    }

    /// Reads the file's tables, noting problems in `reader` and going on with defaults.
    private init(_ root: PipelineTOML.Table, file: String, reader: inout PipelineReader) {
        self.file = file
        directory = Self.relativePathsBase(file)
        reader.only(Keys.top, in: root, table: "the top level", elsewhere: Keys.homes)

        let pipeline = reader.table("pipeline", in: root) ?? PipelineTOML.Table(line: 1)
        reader.only(Keys.pipeline, in: pipeline, table: "[pipeline]", elsewhere: Keys.homes)
        let fileName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        name = reader.string("name", in: pipeline) ?? fileName
        if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) {
            reader.problem(pipeline.line(of: "name"), "name", "use letters, digits, - and _ only, not \"\(name)\"")
            name = fileName
        } else if name.utf8.count > PipelineDefaults.longestName {
            // The name is a directory of Unix sockets, whose paths must fit in 107 bytes.
            reader.problem(
                pipeline.line(of: "name"), "name",
                "\(name.utf8.count) characters is too long for the directory of the pipeline's sockets",
                fix: "use at most \(PipelineDefaults.longestName)")
        }
        var policy = PipelineDefaults.policy
        policy.strategy = reader.choice("strategy", in: pipeline, of: RestartPolicy.Strategy.self) ?? policy.strategy
        policy.maxRestarts = reader.integer("max_restarts", in: pipeline, range: 0...1_000_000) ?? policy.maxRestarts
        let second = TimeSpan.seconds(1)
        let millisecond = TimeSpan.milliseconds(1)
        if let period = reader.duration("period", legacy: ("period_s", second), in: pipeline, minimum: PipelineDefaults.shortestPeriod) {
            policy.period = period.duration
        }
        if let backoff = reader.table("backoff", in: pipeline) {
            reader.only(Keys.backoff, in: backoff, table: "backoff")
            if let initial = reader.duration("initial", legacy: ("initial_ms", millisecond), in: backoff) {
                policy.initialBackoff = initial.duration
            }
            if let max = reader.duration("max", legacy: ("max_ms", millisecond), in: backoff) {
                policy.maxBackoff = max.duration
            }
            if policy.maxBackoff < policy.initialBackoff {
                reader.problem(
                    backoff.line, "backoff",
                    "max (\(TimeSpan(policy.maxBackoff))) is shorter than initial (\(TimeSpan(policy.initialBackoff)))",
                    fix: "make max at least initial")
            }
            policy.jitter = reader.number("jitter", in: backoff, range: 0...1) ?? policy.jitter
        }
        self.policy = policy
        shutdownTimeout =
            reader.duration(
                "shutdown_timeout", legacy: ("shutdown_timeout_s", second), in: pipeline, minimum: PipelineDefaults.shortestPeriod)?
            .duration ?? PipelineDefaults.shutdownTimeout

        source = .urls("-")
        if let source = reader.table("source", in: root) {
            reader.only(Keys.source, in: source, table: "[source]", elsewhere: Keys.homes)
            let urls = reader.string("urls", in: source)
            let pages = reader.string("directory", in: source)
            if let urls, pages != nil {
                reader.problem(source.line(of: "directory"), "directory", "[source] reads urls or a directory, not both", fix: "remove one")
                self.source = .urls(urls)
            } else if let urls {
                self.source = .urls(urls)
                sourceLine = source.line(of: "urls")
            } else if let pages {
                self.source = .directory(pages)
                sourceLine = source.line(of: "directory")
            } else if source["urls"] == nil && source["directory"] == nil {
                reader.problem(source.line, nil, "[source] needs urls = \"FILE\" or directory = \"DIR\"")
            }
            follow = reader.bool("follow", in: source) ?? false
            if follow && urls == "-" {
                reader.problem(
                    source.line(of: "follow"), "follow", "stdin is read until it is closed anyway; follow is for a file or a directory",
                    fix: "remove follow, or name a file: urls = \"urls.txt\"")
            }
        } else if root["source"] == nil {
            reader.problem(nil, nil, "[source] is missing", fix: "say where the URLs come from: [source] with urls = \"urls.txt\"")
        }

        var stages: [Stage] = []
        switch root["stage"] {
        case let .array(items)? where !items.isEmpty:
            for item in items {
                guard case let .table(table) = item else {
                    reader.problem(root.line(of: "stage"), "stage", "expected [[stage]] tables, not \(item.kind)")
                    continue
                }
                if let stage = Self.stage(table, reader: &reader, after: stages) { stages.append(stage) }
            }
        case nil, .array?:
            reader.problem(nil, nil, "no [[stage]] is defined", fix: "add one: [[stage]] with name = \"parse\"")
        case let value?:
            reader.problem(root.line(of: "stage"), "stage", "expected [[stage]] tables, not \(value.kind)")
        }
        self.stages = stages
        captures = Capture.read(from: root, stages: stages, reader: &reader)
        keyFile = reader.string("key_file", in: pipeline)
        readPlacement(root, &reader)
        readLinks(pipeline, &reader)
        warnings = reader.warnings
    }

    /// One `[[stage]]`, or `nil` when it has no usable name.
    private static func stage(_ table: PipelineTOML.Table, reader: inout PipelineReader, after stages: [Stage]) -> Stage? {
        reader.only(Keys.stage, in: table, table: "[[stage]]", elsewhere: Keys.homes)
        guard let name = reader.string("name", in: table) else {
            if table["name"] == nil { reader.problem(table.line, "name", "every [[stage]] needs a name", fix: "add name = \"parse\" (a runnel stage) or a name and a command") }
            return nil
        }
        if name.isEmpty || !name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) {
            reader.problem(table.line(of: "name"), "name", "use letters, digits, -, _ and . only, not \"\(name)\"")
            return nil
        }
        if stages.contains(where: { $0.name == name }) {
            reader.problem(table.line(of: "name"), "name", "stage \"\(name)\" is defined twice", fix: "give each stage its own name")
            return nil
        }
        var command = reader.strings("command", in: table)
        if let given = command, given.isEmpty || given[0].isEmpty {
            reader.problem(table.line(of: "command"), "command", "must name a program", fix: "leave command out to run runnel \(name)")
            command = nil
        }
        var environment: [String: String] = [:]
        if let env = reader.table("env", in: table) {
            for entry in env.entries {
                guard case let .string(value) = entry.value else {
                    reader.problem(entry.line, "env.\(entry.key)", "expected a string, not \(entry.value.kind)", fix: "quote it")
                    continue
                }
                environment[entry.key] = value
            }
        }
        return Stage(
            name: name, command: command, args: reader.strings("args", in: table) ?? [], environment: environment,
            restart: reader.choice("restart", in: table, of: RestartPolicy.RestartType.self) ?? PipelineDefaults.restart,
            replicas: reader.integer("replicas", in: table, range: 1...1024) ?? PipelineDefaults.replicas, line: table.line,
            host: reader.string("host", in: table), port: reader.integer("port", in: table, range: 1...65535),
            hostLine: table["host"] == nil ? nil : table.line(of: "host"))
    }

    /// A path from the file, made absolute against the file's directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") || path == "-" ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardized.path
    }
}
