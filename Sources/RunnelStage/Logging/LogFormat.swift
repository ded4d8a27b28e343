/// How log lines are written on stderr: `--log-format` and `RUNNEL_LOG_FORMAT`.
///
/// ```text
/// text:  runnel parse: warning: INVALID_ARGUMENT: line 2: not valid JSON
/// json:  {"ts":"2026-12-04T17:00:00.123Z","level":"warning","stage":"parse","label":"runnel","message":"INVALID_ARGUMENT: line 2: not valid JSON"}
/// ```
public enum LogFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    /// One line a person reads: `runnel STAGE: [LEVEL: ]message [key=value …]`; info has no
    /// level word, so the common messages read as they always have.
    case text
    /// One JSON object per line, for a log collector: `ts`, `level`, `stage`, `pipeline`,
    /// `label`, `message`, then the other metadata as keys of their own.
    case json

    public var description: String { rawValue }
}
