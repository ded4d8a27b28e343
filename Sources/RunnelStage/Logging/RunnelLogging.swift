import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Sets up swift-log for a `runnel` process, once, before its command runs.
///
/// After ``bootstrap(_:)`` every `Logger` in the process (runnel's own and its libraries')
/// writes through ``RunnelLogHandler`` with the settings given; a `Logger` that names a stage
/// (``Logging/Logger/init(stage:label:)``) puts that stage on its messages, the others carry the
/// command's.
///
/// ```swift
/// var settings = try LogSettings(environment: ProcessInfo.processInfo.environment,
///                                isTerminal: isatty(2) == 1)
/// let arguments = try settings.take(from: Array(CommandLine.arguments.dropFirst()))
/// settings.stage = "parse"
/// RunnelLogging.bootstrap(settings)
/// Logger(stage: "parse").info("resuming after line 12")
/// ```
public enum RunnelLogging {
    private static let current = Mutex<LogSettings?>(nil)

    /// Makes ``RunnelLogHandler`` with `settings` the handler of every `Logger`, and exports the
    /// level and format (``LogSettings/environment``) so the processes this one starts log the
    /// same way. A second call changes nothing: swift-log is set up once per process.
    public static func bootstrap(_ settings: LogSettings) {
        let first = current.withLock { current in
            guard current == nil else { return false }
            current = settings
            return true
        }
        guard first else { return }
        for (name, value) in settings.environment { setenv(name, value, 1) }
        LoggingSystem.bootstrap { label in RunnelLogHandler(label: label, settings: settings) }
    }

    /// The settings the process was set up with, or `nil` before ``bootstrap(_:)`` (in tests).
    public static var settings: LogSettings? { current.withLock { $0 } }

    /// Whether log lines are JSON: then an error that ends a command is logged as one too, so
    /// stderr holds nothing but JSON lines.
    public static var isJSON: Bool { settings?.format == .json }
}

extension Logger {
    /// A logger whose messages are about `stage`: `runnel STAGE: …` in text, `"stage":"STAGE"`
    /// in JSON.
    /// - Parameters:
    ///   - stage: the stage's service name (`parse`, or a wrapped filter's name) or the command.
    ///   - label: the logger's label; JSON writes it as `label`.
    ///
    /// ```swift
    /// let logger = Logger(stage: "parse")
    /// logger.warning("no ack from enrich for 30s; reconnecting to resend")
    /// ```
    public init(stage: String, label: String = "runnel") {
        self.init(label: label)
        self[metadataKey: LogKey.stage] = .string(stage)
    }
}
