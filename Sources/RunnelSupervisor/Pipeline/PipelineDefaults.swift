import Foundation
import RunnelProtocol

/// What a pipeline file means by each key it leaves out: the one place these values are written.
///
/// The reader of pipeline files starts from them, `runnel check --help` prints ``text``, and the
/// README's table of them is checked against ``keys`` by the tests. The restart policy's values
/// are those of `RestartPolicy.Configuration()`, which the supervisor runs with.
///
/// ```swift
/// PipelineDefaults.shutdownTimeout   // 30 s
/// print(PipelineDefaults.text)       // the keys as TOML, with what each means
/// ```
public enum PipelineDefaults {
    /// `strategy`, `max_restarts`, `period` and `backoff` in `[pipeline]`.
    public static let policy = RestartPolicy.Configuration()
    /// `shutdown_timeout`: how long a stage has to drain after SIGTERM before SIGKILL.
    public static let shutdownTimeout: Duration = .seconds(30)
    /// The shortest `period` and `shutdown_timeout` a file may set.
    public static let shortestPeriod = TimeSpan.seconds(1)
    /// `links`: what links the stages; `"nats://HOST:PORT[/PREFIX][?ack_wait=…]"` makes each link
    /// a JetStream work queue (``PipelineDefinition/Links``).
    public static let links = "unix"
    /// `restart` of a `[[stage]]`.
    public static let restart = RestartPolicy.RestartType.permanent
    /// `replicas` of a `[[stage]]`.
    public static let replicas = 1
    /// The TCP port of the stage at position 0 when its upstream is on another host; the next
    /// stage's is one more (a stage's `port` overrides it).
    public static let firstPort = 7400
    /// How long a stage has to answer `--describe` before `runnel run` and `runnel check` give up.
    public static let describeTimeout: Duration = .seconds(10)
    /// How deep keys, tables and arrays may nest in a pipeline file.
    public static let maxNesting = 32
    /// The largest pipeline file read (they are a few KiB).
    public static let maxFileSize = 1 << 20
    /// The longest pipeline `name`: it names the directory of the pipeline's sockets
    /// (`/tmp/runnel-UID/NAME/STAGE.sock`), and a socket's path must fit in 107 bytes.
    public static let longestName = 48

    /// A key a file may leave out, and the value it then has, as the file would write it.
    public struct Key: Sendable, Equatable {
        /// Where it is written: `[pipeline]`, `[[stage]]`.
        public var table: String
        /// The key's name: `strategy`.
        public var key: String
        /// The value as TOML: `"one_for_one"`, `10`, `"60s"`.
        public var value: String
        /// What it means, in a few words.
        public var meaning: String
    }

    /// Every defaulted key, in the order a file lists them.
    public static var keys: [Key] {
        let strategies = RestartPolicy.Strategy.allCases.filter { $0 != policy.strategy }.map(\.rawValue)
        let restarts = RestartPolicy.RestartType.allCases.filter { $0 != restart }.map(\.rawValue)
        return [
            Key(table: "[pipeline]", key: "name", value: "FILE", meaning: "the file's name without .toml"),
            Key(table: "[pipeline]", key: "strategy", value: "\"\(policy.strategy.rawValue)\"", meaning: "or " + strategies.joined(separator: ", ")),
            Key(table: "[pipeline]", key: "max_restarts", value: "\(policy.maxRestarts)", meaning: "more in a row, no output between: gives up"),
            Key(table: "[pipeline]", key: "period", value: "\"\(TimeSpan(policy.period))\"", meaning: ""),
            Key(
                table: "[pipeline]", key: "backoff",
                value: "{ initial = \"\(TimeSpan(policy.initialBackoff))\", max = \"\(TimeSpan(policy.maxBackoff))\", jitter = \(policy.jitter) }",
                meaning: ""),
            Key(table: "[pipeline]", key: "shutdown_timeout", value: "\"\(TimeSpan(shutdownTimeout))\"", meaning: "then SIGKILL what still runs"),
            Key(table: "[pipeline]", key: "links", value: "\"\(links)\"", meaning: "or \"nats://HOST:PORT\": JetStream queues"),
            Key(table: "[[stage]]", key: "restart", value: "\"\(restart.rawValue)\"", meaning: "or " + restarts.joined(separator: ", ")),
            Key(table: "[[stage]]", key: "replicas", value: "\(replicas)", meaning: "processes sharing its socket"),
            Key(table: "[[stage]]", key: "command", value: "[\"runnel\", NAME]", meaning: "then its args"),
            Key(table: "[[stage]]", key: "port", value: "\(firstPort) + position", meaning: "with [hosts]: its TCP port"),
        ]
    }

    /// The defaults as a pipeline file would spell them, one key a line with what it means.
    public static var text: String {
        var lines: [String] = []
        var table = ""
        for key in keys {
            if key.table != table {
                table = key.table
                lines.append(table)
            }
            let assignment = "\(key.key) = \(key.value)"
            // Padded by hand: Foundation's `padding(toLength:)` bridges to NSString, and this text
            // is made at every start of every command (it is part of `runnel run --help`).
            lines.append(
                key.meaning.isEmpty
                    ? assignment
                    : assignment + String(repeating: " ", count: max(1, 32 - assignment.count)) + "# \(key.meaning)")
        }
        return lines.joined(separator: "\n")
    }
}
