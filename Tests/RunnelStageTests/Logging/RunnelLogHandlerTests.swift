import Foundation
import Logging
import RunnelProtocol
import Synchronization
import Testing

@testable import RunnelStage

/// Collects the lines a handler writes.
private final class Lines: Sendable {
    private let lines = Mutex<[String]>([])
    var all: [String] { lines.withLock { $0 } }
    var output: LogOutput { LogOutput { line in self.append(line) } }
    private func append(_ line: String) { lines.withLock { $0.append(line) } }
}

/// A logger writing through ``RunnelLogHandler`` with `settings` into `lines`.
private func logger(_ settings: LogSettings, _ lines: Lines, label: String = "runnel") -> Logger {
    Logger(label: label) { label in RunnelLogHandler(label: label, settings: settings, output: lines.output) }
}

/// A JSON log line as an object, read by Foundation's decoder (the handler writes its own JSON).
private func object(_ line: String) throws -> [String: JSONValue] {
    try JSONDecoder().decode([String: JSONValue].self, from: Data(line.utf8))
}

@Suite("RunnelLogHandler: text and JSON lines, levels, metadata, colour")
struct RunnelLogHandlerTests {
    @Test("text: `runnel STAGE: message` at info, the level named otherwise, metadata as key=value")
    func text() {
        let lines = Lines()
        var log = logger(LogSettings(stage: "parse", pipeline: "news"), lines)
        log.info("draining")
        log.warning("INVALID_ARGUMENT: line 2: not JSON")
        log[metadataKey: "peer"] = "enrich"
        log.error("gave up", metadata: ["attempts": "5", "reason": "no ack in 30s"])
        #expect(
            lines.all == [
                "runnel parse: draining",
                "runnel parse: warning: INVALID_ARGUMENT: line 2: not JSON",
                #"runnel parse: error: gave up attempts=5 peer=enrich reason="no ack in 30s""#,
            ])
    }

    @Test("text: a logger naming its own stage wins over the command's; none at all reads `runnel:`")
    func stageNames() {
        let lines = Lines()
        var log = logger(LogSettings(stage: "wrap"), lines)
        log.info("one")
        log[metadataKey: LogKey.stage] = "upper"
        log.info("two")
        logger(LogSettings(), lines).notice("three")
        #expect(lines.all == ["runnel wrap: one", "runnel upper: two", "runnel: notice: three"])
    }

    @Test("json: one object per line with ts, level, stage, pipeline, label, message and the metadata")
    func json() throws {
        let lines = Lines()
        let log = logger(LogSettings(format: .json, stage: "parse", pipeline: "news"), lines, label: "runnel.link")
        log.warning("line 1\n\"quoted\" \u{1B}[31m", metadata: ["code": "INVALID_ARGUMENT", "message": "clash", "attempt": .stringConvertible(2)])
        log.info("nested", metadata: ["peers": ["a", "b"], "window": ["credit": "64"]])
        #expect(lines.all.count == 2)
        #expect(!lines.all.joined().contains("\n"), "one line per message")
        let first = try object(lines.all[0])
        #expect(first["level"] == .string("warning"))
        #expect(first["stage"] == .string("parse"))
        #expect(first["pipeline"] == .string("news"))
        #expect(first["label"] == .string("runnel.link"))
        #expect(first["message"] == .string("line 1\n\"quoted\" \u{1B}[31m"))
        #expect(first["code"] == .string("INVALID_ARGUMENT"))
        #expect(first["attempt"] == .string("2"))
        #expect(first["metadata.message"] == .string("clash"), "metadata never overwrites the message")
        guard case let .string(ts)? = first["ts"] else { Issue.record("no ts: \(lines.all[0])"); return }
        #expect(ts.count == 24 && ts.hasSuffix("Z") && Timestamp.parse(ts) != nil, "\(ts)")
        #expect(lines.all[0].hasPrefix(#"{"ts":""#), "ts comes first: \(lines.all[0])")
        let second = try object(lines.all[1])
        #expect(second["peers"] == .array([.string("a"), .string("b")]))
        #expect(second["window"] == .object(["credit": .string("64")]))
    }

    @Test("the level filters: below it nothing is written", arguments: Logger.Level.allCases)
    func levels(threshold: Logger.Level) {
        let lines = Lines()
        let log = logger(LogSettings(level: threshold, stage: "parse"), lines)
        for level in Logger.Level.allCases { log.log(level: level, "\(level)") }
        let expected = Logger.Level.allCases.filter { $0 >= threshold }
        #expect(lines.all.count == expected.count)
        #expect(lines.all.first?.hasSuffix(threshold.rawValue) == true, "\(lines.all)")
    }

    @Test("colour: the level word only, and only when asked; json never")
    func colour() {
        let lines = Lines()
        let coloured = logger(LogSettings(colour: true, stage: "parse"), lines)
        coloured.warning("slow")
        coloured.info("fine")
        logger(LogSettings(colour: false, stage: "parse"), lines).error("plain")
        logger(LogSettings(format: .json, colour: true, stage: "parse"), lines).error("json")
        #expect(lines.all[0] == "runnel parse: \u{1B}[33mwarning\u{1B}[0m: slow")
        #expect(lines.all[1] == "runnel parse: fine")
        #expect(!lines.all[2].contains("\u{1B}"))
        #expect(!lines.all[3].contains("\u{1B}"))
    }

    @Test("text: control characters in a message are shown, not sent to the terminal")
    func controlCharacters() {
        let lines = Lines()
        logger(LogSettings(stage: "fetch"), lines).warning("title \u{1B}]0;pwned\u{07} and\ttab")
        #expect(lines.all == ["runnel fetch: warning: title \\u{1B}]0;pwned\\u{7} and\ttab"])
    }

    @Test("colour is wanted on a terminal only, and not with NO_COLOR set to anything but empty, or TERM=dumb")
    func noColour() throws {
        #expect(LogSettings.wantsColour(environment: [:], isTerminal: true))
        #expect(!LogSettings.wantsColour(environment: [:], isTerminal: false))
        #expect(!LogSettings.wantsColour(environment: ["NO_COLOR": "1"], isTerminal: true))
        #expect(LogSettings.wantsColour(environment: ["NO_COLOR": ""], isTerminal: true))
        #expect(!LogSettings.wantsColour(environment: ["TERM": "dumb"], isTerminal: true))
        #expect(try LogSettings(environment: ["NO_COLOR": "yes"], isTerminal: true).colour == false)
        #expect(try LogSettings(environment: [:], isTerminal: false).colour == false)
    }

    @Test("the environment sets level, format and pipeline; a bad value is refused naming the variable")
    func environment() throws {
        let settings = try LogSettings(
            environment: ["RUNNEL_LOG_LEVEL": "DEBUG", "RUNNEL_LOG_FORMAT": "json", "RUNNEL_PIPELINE": "news"])
        #expect(settings == LogSettings(level: .debug, format: .json, pipeline: "news"))
        #expect(settings.environment == ["RUNNEL_LOG_LEVEL": "debug", "RUNNEL_LOG_FORMAT": "json"])
        let error = #expect(throws: RunnelError.self) { try LogSettings(environment: ["RUNNEL_LOG_LEVEL": "loud"]) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains("RUNNEL_LOG_LEVEL loud") == true, "\(error?.message ?? "")")
        #expect(error?.message.contains("trace, debug, info, notice, warning, error, critical") == true)
    }

    @Test("the flags are taken off the command line, in both spellings, before -- only; they win over the environment")
    func flags() throws {
        var settings = try LogSettings(environment: ["RUNNEL_LOG_LEVEL": "error"])
        let rest = try settings.take(from: [
            "--log-level", "debug", "parse", "--log-format=json", "--batch", "8", "--", "cmd", "--log-level", "trace",
        ])
        #expect(rest == ["parse", "--batch", "8", "--", "cmd", "--log-level", "trace"])
        #expect(settings.level == .debug)
        #expect(settings.format == .json)

        var other = LogSettings()
        #expect(try other.take(from: ["cat", "--log-level=warning", "x.jsonl"]) == ["cat", "x.jsonl"])
        #expect(other.level == .warning)
    }

    @Test("a missing or unknown value is refused with the values it takes")
    func badFlags() {
        var settings = LogSettings()
        let missing = #expect(throws: RunnelError.self) { try settings.take(from: ["parse", "--log-level"]) }
        #expect(missing?.message == "--log-level needs a value: trace, debug, info, notice, warning, error, critical")
        let flagNext = #expect(throws: RunnelError.self) { try settings.take(from: ["--log-format", "--verbose"]) }
        #expect(flagNext?.message.hasPrefix("--log-format needs a value") == true)
        let unknown = #expect(throws: RunnelError.self) { try settings.take(from: ["--log-format=yaml"]) }
        #expect(unknown?.message == "--log-format yaml: the formats are text (default) and json")
        #expect(unknown?.code == .invalidArgument)
    }
}
