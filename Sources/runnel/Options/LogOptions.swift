import ArgumentParser
import Logging
import RunnelStage

/// `--log-level`'s values: trace, debug, info, notice, warning, error, critical.
typealias LogLevel = Logger.Level

extension Logger.Level: @retroactive ExpressibleByArgument {}
extension LogFormat: ExpressibleByArgument {}

extension Runnel {
    /// The part of `runnel --help` about logs, which every command takes.
    static let logsHelp = """
        Logs: every command takes --log-level LEVEL (trace, debug, info, notice, warning, \
        error, critical; default info) and --log-format text|json (default text), anywhere \
        before --, or RUNNEL_LOG_LEVEL and RUNNEL_LOG_FORMAT; the processes `runnel run` \
        starts inherit them. Text reads `runnel STAGE: message`, naming any level but info; \
        json is one object per line on stderr (ts, level, stage, pipeline, label, message). \
        The level is coloured on a terminal, unless NO_COLOR is set.
        """
}
