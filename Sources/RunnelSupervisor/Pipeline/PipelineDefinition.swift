import Foundation
import RunnelProtocol

/// A pipeline file, read and checked: the source, the stages in order, and how they restart.
///
/// ```toml
/// [pipeline]
/// name = "news"
/// strategy = "one_for_one"      # one_for_one | rest_for_one | one_for_all
/// max_restarts = 10             # … within
/// period = "60s"               # durations: 250ms, 30s, 10m, 1h
/// backoff = { initial = "100ms", max = "5s", jitter = 0.2 }
/// shutdown_timeout = "30s"
///
/// capture = ["parse->enrich"]  # links to record (see ``Capture``)
///
/// [source]
/// urls = "urls.txt"             # one URL per line; or directory = "pages" (every page in it)
///
/// [[stage]]
/// name = "fetch"                # runs `runnel fetch` unless `command` says otherwise
/// args = ["--allow-private"]
/// restart = "permanent"         # permanent | transient | temporary
/// replicas = 1
/// env = { RUST_LOG = "info" }
/// ```
///
/// Each stage listens on a socket the supervisor binds and sends to the next stage's; the last
/// stage writes to the supervisor. Relative paths are relative to the file's directory, and the
/// stages run there.
public struct PipelineDefinition: Sendable {
    public struct Stage: Sendable, Equatable {
        public var name: String
        /// The program and its first arguments; `nil` runs `runnel NAME`.
        public var command: [String]?
        public var args: [String]
        public var environment: [String: String]
        public var restart: RestartPolicy.RestartType
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

    public enum Source: Sendable, Equatable {
        /// A file with one URL (or JSON message) per line; `-` is stdin.
        case urls(String)
        /// Every page file in a directory, as `file://` URLs, sorted.
        case directory(String)
    }

    public var name: String
    public var file: String
    public var directory: String
    public var source: Source
    public var stages: [Stage]
    public var policy: RestartPolicy.Configuration
    public var shutdownTimeout: Duration
    /// The links to capture (top-level `capture = ["parse->enrich", …]`).
    public var captures: [Capture] = []
    /// The hosts stages are placed on (`[hosts.NAME]`); empty when everything runs on one host.
    public var hosts: [Host] = []
    /// Certificates for links between hosts (`[tls]`): with them those links are `tls://`.
    public var tls: TLSFiles?
    /// The shared key for links between hosts (`key_file` in `[pipeline]`).
    public var keyFile: String?
    /// What the file says in a way that still works but will not in the next release
    /// (`period_s = 60` for `period = "60s"`), one line each, for the command to show.
    public var warnings: [String] = []

    /// Reads and checks a pipeline file.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` naming the file, the line and the key.
    public init(contentsOf path: String) throws(RunnelError) {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RunnelError(.notFound, "cannot read the pipeline file \(path)")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), file: path)
    }

    public init(text: String, file: String) throws(RunnelError) {
        self.file = file
        directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
        let document: TOMLDocument
        do {
            document = try TOMLDocument(parsing: text)
        } catch {
            throw RunnelError(.invalidArgument, "\(file) \(error)")
        }
        let reader = Reader(file: file)
        let root = document.root
        try reader.only(["pipeline", "source", "stage", "capture", "hosts", "tls"], in: root, table: "the top level")

        let pipeline = try reader.table("pipeline", in: root) ?? TOMLDocument.Table(line: 1)
        try reader.only(
            ["name", "strategy", "max_restarts", "period", "period_s", "backoff", "shutdown_timeout", "shutdown_timeout_s", "key_file"],
            in: pipeline,
            table: "[pipeline]")
        name = try reader.string("name", in: pipeline) ?? URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }), !name.isEmpty else {
            throw reader.error(pipeline.line(of: "name"), "name", "use letters, digits, - and _ only")
        }
        var policy = RestartPolicy.Configuration()
        if let strategy = try reader.string("strategy", in: pipeline) {
            guard let value = RestartPolicy.Strategy(rawValue: strategy) else {
                throw reader.error(
                    pipeline.line(of: "strategy"), "strategy",
                    "expected one of \(RestartPolicy.Strategy.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(strategy)\"")
            }
            policy.strategy = value
        }
        policy.maxRestarts = try reader.integer("max_restarts", in: pipeline, minimum: 0) ?? policy.maxRestarts
        let second = TimeSpan.seconds(1)
        let millisecond = TimeSpan.milliseconds(1)
        if let period = try reader.duration("period", legacy: ("period_s", second), in: pipeline, minimum: second, warnings: &warnings) {
            policy.period = period.duration
        }
        if let backoff = try reader.table("backoff", in: pipeline) {
            try reader.only(["initial", "max", "initial_ms", "max_ms", "jitter"], in: backoff, table: "backoff")
            if let initial = try reader.duration("initial", legacy: ("initial_ms", millisecond), in: backoff, warnings: &warnings) {
                policy.initialBackoff = initial.duration
            }
            if let max = try reader.duration("max", legacy: ("max_ms", millisecond), in: backoff, warnings: &warnings) {
                policy.maxBackoff = max.duration
            }
            policy.jitter = try reader.number("jitter", in: backoff) ?? policy.jitter
        }
        self.policy = policy
        shutdownTimeout =
            try reader.duration("shutdown_timeout", legacy: ("shutdown_timeout_s", second), in: pipeline, minimum: second, warnings: &warnings)?
            .duration ?? .seconds(30)

        guard let source = try reader.table("source", in: root) else {
            throw RunnelError(.invalidArgument, "\(file): [source] is missing: say where the URLs come from (urls = \"urls.txt\")")
        }
        try reader.only(["urls", "directory"], in: source, table: "[source]")
        if let urls = try reader.string("urls", in: source) {
            self.source = .urls(urls)
        } else if let pages = try reader.string("directory", in: source) {
            self.source = .directory(pages)
        } else {
            throw reader.error(source.line, "urls", "[source] needs urls = \"FILE\" or directory = \"DIR\"")
        }

        guard case let .array(items)? = root["stage"], !items.isEmpty else {
            throw RunnelError(.invalidArgument, "\(file): no [[stage]] is defined")
        }
        var stages: [Stage] = []
        for item in items {
            guard case let .table(table) = item else { continue }
            try reader.only(["name", "command", "args", "env", "restart", "replicas", "host", "port"], in: table, table: "[[stage]]")
            guard let name = try reader.string("name", in: table) else {
                throw reader.error(table.line, "name", "every [[stage]] needs a name")
            }
            if stages.contains(where: { $0.name == name }) {
                throw reader.error(table.line(of: "name"), "name", "stage \"\(name)\" is defined twice")
            }
            let command = try reader.strings("command", in: table)
            if let command, command.isEmpty { throw reader.error(table.line(of: "command"), "command", "must not be empty") }
            var restart = RestartPolicy.RestartType.permanent
            if let text = try reader.string("restart", in: table) {
                guard let value = RestartPolicy.RestartType(rawValue: text) else {
                    throw reader.error(
                        table.line(of: "restart"), "restart", "expected permanent, transient or temporary, not \"\(text)\"")
                }
                restart = value
            }
            var environment: [String: String] = [:]
            if let env = try reader.table("env", in: table) {
                for entry in env.entries {
                    guard case let .string(value) = entry.value else {
                        throw reader.error(entry.line, "env.\(entry.key)", "expected a string")
                    }
                    environment[entry.key] = value
                }
            }
            stages.append(
                Stage(
                    name: name, command: command, args: try reader.strings("args", in: table) ?? [], environment: environment,
                    restart: restart, replicas: try reader.integer("replicas", in: table, minimum: 1) ?? 1, line: table.line,
                    host: try reader.string("host", in: table), port: try reader.integer("port", in: table, minimum: 1),
                    hostLine: table.line(of: "host")))
        }
        self.stages = stages
        captures = try Capture.read(from: root, stages: stages, error: reader.error)
        keyFile = try reader.string("key_file", in: pipeline)
        try readPlacement(root, reader)
    }

    /// A path from the file, made absolute against the file's directory.
    public func resolve(_ path: String) -> String {
        path.hasPrefix("/") || path == "-" ? path : URL(fileURLWithPath: directory).appendingPathComponent(path).standardized.path
    }
}

/// Reads typed values from TOML tables, with errors that name the line and the key.
struct Reader {
    let file: String

    func error(_ line: Int, _ key: String, _ message: String) -> RunnelError {
        RunnelError(.invalidArgument, "\(file) line \(line): key \"\(key)\": \(message)")
    }

    func only(_ keys: [String], in table: TOMLDocument.Table, table name: String) throws(RunnelError) {
        for entry in table.entries where !keys.contains(entry.key) {
            throw error(entry.line, entry.key, "unknown key in \(name) (known: \(keys.joined(separator: ", ")))")
        }
    }

    func table(_ key: String, in table: TOMLDocument.Table) throws(RunnelError) -> TOMLDocument.Table? {
        switch table[key] {
        case nil: return nil
        case let .table(value)?: return value
        default: throw error(table.line(of: key), key, "expected a table")
        }
    }

    func string(_ key: String, in table: TOMLDocument.Table) throws(RunnelError) -> String? {
        switch table[key] {
        case nil: return nil
        case let .string(value)?: return value
        default: throw error(table.line(of: key), key, "expected a string (in quotes)")
        }
    }

    func strings(_ key: String, in table: TOMLDocument.Table) throws(RunnelError) -> [String]? {
        switch table[key] {
        case nil: return nil
        case let .string(value)?: return value.split(separator: " ").map(String.init)
        case let .array(items)?:
            var out: [String] = []
            for item in items {
                guard case let .string(value) = item else { throw error(table.line(of: key), key, "expected an array of strings") }
                out.append(value)
            }
            return out
        default: throw error(table.line(of: key), key, "expected an array of strings")
        }
    }

    func integer(_ key: String, in table: TOMLDocument.Table, minimum: Int) throws(RunnelError) -> Int? {
        switch table[key] {
        case nil: return nil
        case let .integer(value)? where value >= minimum: return value
        case let .integer(value)?: throw error(table.line(of: key), key, "must be at least \(minimum), not \(value)")
        default: throw error(table.line(of: key), key, "expected an integer")
        }
    }

    /// Reads a duration (`period = "60s"`), or else its deprecated spelling with the unit in the
    /// key's name (`period_s = 60`), which adds a line to `warnings`. Both at once are refused.
    func duration(
        _ key: String, legacy: (key: String, unit: TimeSpan), in table: TOMLDocument.Table, minimum: TimeSpan = .zero,
        warnings: inout [String]
    ) throws(RunnelError) -> TimeSpan? {
        if table[key] != nil && table[legacy.key] != nil {
            throw error(table.line(of: legacy.key), legacy.key, "say \(key) or \(legacy.key), not both")
        }
        let span: TimeSpan
        if let text = try string(key, in: table) {
            do throws(RunnelError) {
                span = try TimeSpan(parsing: text)
            } catch {
                throw self.error(table.line(of: key), key, error.message)
            }
        } else if let count = try integer(legacy.key, in: table, minimum: 0) {
            do throws(RunnelError) {
                span = try TimeSpan(parsing: "\(count)", legacyUnit: legacy.unit)
            } catch {
                throw self.error(table.line(of: legacy.key), legacy.key, error.message)
            }
            warnings.append(
                "\(file) line \(table.line(of: legacy.key)): \(legacy.key) = \(count) is deprecated; write \(key) = \"\(span)\"")
        } else {
            return nil
        }
        guard span >= minimum else { throw error(table.line(of: key), key, "must be at least \(minimum), not \(span)") }
        return span
    }

    func number(_ key: String, in table: TOMLDocument.Table) throws(RunnelError) -> Double? {
        switch table[key] {
        case nil: return nil
        case let .integer(value)?: return Double(value)
        case let .float(value)?: return value
        default: throw error(table.line(of: key), key, "expected a number")
        }
    }
}
