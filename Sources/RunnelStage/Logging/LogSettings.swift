import Logging
import RunnelProtocol

/// What the logs of one `runnel` process look like: the level below which messages are dropped,
/// the format, whether levels are coloured, and the metadata every message carries.
///
/// Read once at start-up, before the command line is parsed, from the environment
/// (`RUNNEL_LOG_LEVEL`, `RUNNEL_LOG_FORMAT`, `RUNNEL_PIPELINE`, `NO_COLOR`, `TERM`) and then from
/// `--log-level` and `--log-format` anywhere before `--`, which win. Every command takes them,
/// so ``take(from:)`` removes them from the arguments before the command's own parser sees them.
///
/// ```swift
/// var settings = LogSettings(environment: ProcessInfo.processInfo.environment)
/// let arguments = try settings.take(from: Array(CommandLine.arguments.dropFirst()))
/// RunnelLogging.bootstrap(settings)
/// ```
public struct LogSettings: Sendable, Equatable {
    /// Messages below this level are dropped (`--log-level`, default info).
    public var level: Logger.Level = .info
    /// `--log-format`: text (default) or json.
    public var format: LogFormat = .text
    /// Whether the level word is coloured: only text on a terminal, and never with `NO_COLOR`.
    public var colour = false
    /// The `stage` of every message that does not name its own: the command (`parse`, `run`).
    public var stage: String?
    /// The `pipeline` of every message: `RUNNEL_PIPELINE`, which the supervisor sets for the
    /// processes it starts.
    public var pipeline: String?

    /// The flags, as they are spelled on the command line.
    public static let levelFlag = "--log-level"
    public static let formatFlag = "--log-format"

    /// The names `--log-level` takes, lowest first.
    public static let levelNames = Logger.Level.allCases.map(\.rawValue)

    public init(
        level: Logger.Level = .info, format: LogFormat = .text, colour: Bool = false, stage: String? = nil,
        pipeline: String? = nil
    ) {
        self.level = level
        self.format = format
        self.colour = colour
        self.stage = stage
        self.pipeline = pipeline
    }

    /// The settings the environment asks for; a value that is not a level or a format is
    /// refused, like the flag would be.
    /// - Parameters:
    ///   - environment: the process environment.
    ///   - isTerminal: whether stderr is a terminal (colour is only for one).
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` naming the variable and the values it takes.
    public init(environment: [String: String], isTerminal: Bool = false) throws(RunnelError) {
        if let value = environment["RUNNEL_LOG_LEVEL"], !value.isEmpty {
            level = try Self.level(value, from: "RUNNEL_LOG_LEVEL")
        }
        if let value = environment["RUNNEL_LOG_FORMAT"], !value.isEmpty {
            format = try Self.format(value, from: "RUNNEL_LOG_FORMAT")
        }
        if let value = environment["RUNNEL_PIPELINE"], !value.isEmpty { pipeline = value }
        colour = Self.wantsColour(environment: environment, isTerminal: isTerminal)
    }

    /// Whether coloured output is wanted: on a terminal, unless `NO_COLOR` is set to anything
    /// but the empty string (https://no-color.org) or `TERM` is `dumb`.
    public static func wantsColour(environment: [String: String], isTerminal: Bool) -> Bool {
        guard isTerminal else { return false }
        if let noColour = environment["NO_COLOR"], !noColour.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// Takes `--log-level LEVEL`, `--log-format FORMAT` (or `--flag=value`) out of `arguments`,
    /// up to a `--` (what follows it belongs to another program), and applies them.
    /// - Parameter arguments: the command line without the program's name.
    /// - Returns: `arguments` without the two flags and their values.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` for a missing or unknown value.
    public mutating func take(from arguments: [String]) throws(RunnelError) -> [String] {
        var rest: [String] = []
        rest.reserveCapacity(arguments.count)
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                rest.append(contentsOf: arguments[(index - 1)...])
                break
            }
            let (flag, attached) = Self.split(argument)
            guard flag == Self.levelFlag || flag == Self.formatFlag else {
                rest.append(argument)
                continue
            }
            let value: String
            if let attached {
                value = attached
            } else if index < arguments.endIndex, !arguments[index].hasPrefix("--") {
                value = arguments[index]
                index += 1
            } else {
                let values = flag == Self.levelFlag ? Self.levelNames : LogFormat.allCases.map(\.rawValue)
                throw RunnelError(.invalidArgument, "\(flag) needs a value: \(values.joined(separator: ", "))")
            }
            if flag == Self.levelFlag {
                level = try Self.level(value, from: String(flag))
            } else {
                format = try Self.format(value, from: String(flag))
            }
        }
        if format == .json { colour = false }
        return rest
    }

    /// The variables a process started by this one should inherit so that it logs the same way:
    /// `RUNNEL_LOG_LEVEL` and `RUNNEL_LOG_FORMAT` (the pipeline is the supervisor's to set).
    public var environment: [String: String] {
        ["RUNNEL_LOG_LEVEL": level.rawValue, "RUNNEL_LOG_FORMAT": format.rawValue]
    }

    private static func split(_ argument: String) -> (flag: Substring, value: String?) {
        guard argument.hasPrefix("--log-"), let equals = argument.firstIndex(of: "=") else {
            return (argument[...], nil)
        }
        return (argument[..<equals], String(argument[argument.index(after: equals)...]))
    }

    private static func level(_ value: String, from source: String) throws(RunnelError) -> Logger.Level {
        guard let level = Logger.Level(rawValue: value.lowercased()) else {
            throw RunnelError(
                .invalidArgument, "\(source) \(value): the levels are \(levelNames.joined(separator: ", ")) (default info)")
        }
        return level
    }

    private static func format(_ value: String, from source: String) throws(RunnelError) -> LogFormat {
        guard let format = LogFormat(rawValue: value.lowercased()) else {
            throw RunnelError(.invalidArgument, "\(source) \(value): the formats are text (default) and json")
        }
        return format
    }
}
