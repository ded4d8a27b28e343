import Logging
import RunnelProtocol

/// Runnel's `LogHandler`: one line per message on stderr, as text a person reads or as a JSON
/// object, with the stage (and the pipeline, under a supervisor) on every message.
///
/// Text keeps the shape runnel's messages always had, `runnel STAGE: message`, and names the
/// level only when it is not info; other metadata follows as `key=value`. With colour, only the
/// level word is coloured. JSON is one object per line: `ts` (RFC 3339, UTC, milliseconds),
/// `level`, `stage`, `pipeline`, `label`, `message`, then each other metadata key.
///
/// ```text
/// runnel parse: draining (finishing what is in flight, then exiting)
/// runnel parse: warning: INVALID_ARGUMENT: line 2: not valid JSON
/// {"ts":"2026-12-04T17:00:00.123Z","level":"info","stage":"parse","pipeline":"news","label":"runnel","message":"draining (finishing what is in flight, then exiting)"}
/// ```
///
/// ```swift
/// LoggingSystem.bootstrap { label in RunnelLogHandler(label: label, settings: settings) }
/// Logger(stage: "parse").warning("INVALID_ARGUMENT: line 2: not valid JSON")
/// ```
public struct RunnelLogHandler: LogHandler {
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata
    public var metadataProvider: Logger.MetadataProvider?
    /// Text or JSON.
    public var format: LogFormat
    /// Whether the level word of a text line is coloured (ANSI escapes).
    public var colour: Bool
    private let output: LogOutput

    /// A handler for `label` with the level, format, colour and metadata of `settings`.
    /// - Parameters:
    ///   - label: the logger's label (`runnel`, `runnel.store.postgres`).
    ///   - settings: what the process was asked for; its stage and pipeline become metadata.
    ///   - output: where the lines go (stderr unless a test collects them).
    public init(label: String, settings: LogSettings, output: LogOutput = .standardError) {
        self.label = label
        logLevel = settings.level
        format = settings.format
        colour = settings.colour && settings.format == .text
        var metadata: Logger.Metadata = [:]
        if let stage = settings.stage { metadata[LogKey.stage] = .string(stage) }
        if let pipeline = settings.pipeline { metadata[LogKey.pipeline] = .string(pipeline) }
        self.metadata = metadata
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output.write(render(event, at: Timestamp.currentMillis()))
    }

    /// The line for `event` (without its newline), as it is written.
    /// - Parameters:
    ///   - event: what was logged.
    ///   - millis: when, in milliseconds since the epoch (JSON's `ts`).
    public func render(_ event: LogEvent, at millis: UInt64) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let own = event.metadata { merged.merge(own) { $1 } }
        switch format {
        case .text: return text(event, merged)
        case .json: return json(event, merged, millis)
        }
    }

    private func text(_ event: LogEvent, _ metadata: Logger.Metadata) -> String {
        var line = "runnel"
        if let stage = metadata[LogKey.stage]?.description, !stage.isEmpty { line += " " + stage }
        line += ": "
        if event.level != .info {
            line += colour ? Self.colours[event.level, default: ""] + event.level.rawValue + "\u{1B}[0m" : event.level.rawValue
            line += ": "
        }
        line += Self.printable(event.message.description)
        if let error = event.error { line += ": " + Self.printable("\(error)") }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != LogKey.stage && key != LogKey.pipeline {
            line += " " + key + "=" + Self.textValue(value)
        }
        return line
    }

    private func json(_ event: LogEvent, _ metadata: Logger.Metadata, _ millis: UInt64) -> String {
        var line = "{"
        func field(_ key: String, _ write: (inout String) -> Void) {
            if line.count > 1 { line += "," }
            JSONText.appendString(key, to: &line)
            line += ":"
            write(&line)
        }
        field("ts") { JSONText.appendString(Timestamp.format(millis: millis), to: &$0) }
        field("level") { JSONText.appendString(event.level.rawValue, to: &$0) }
        for key in [LogKey.stage, LogKey.pipeline] {
            if let value = metadata[key] { field(key) { JSONText.append(value, to: &$0) } }
        }
        field("label") { JSONText.appendString(label, to: &$0) }
        field("message") { JSONText.appendString(event.message.description, to: &$0) }
        if let error = event.error { field("error") { JSONText.appendString("\(error)", to: &$0) } }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != LogKey.stage && key != LogKey.pipeline {
            field(Self.reserved.contains(key) ? "metadata." + key : key) { JSONText.append(value, to: &$0) }
        }
        line += "}"
        return line
    }

    /// A metadata value in a text line: as it reads, or JSON-quoted when it has spaces, quotes,
    /// `=` or control characters (so a line still splits into its pairs).
    private static func textValue(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .dictionary, .array:
            var out = ""
            JSONText.append(value, to: &out)
            return out
        case .string, .stringConvertible:
            let text = value.description
            let plain = !text.isEmpty && !text.unicodeScalars.contains { $0 == " " || $0 == "\"" || $0 == "=" || $0.value < 0x20 }
            if plain { return text }
            var out = ""
            JSONText.appendString(text, to: &out)
            return out
        }
    }

    /// `text` with its control characters but newline and tab shown as `\u{1B}`, so what a
    /// message quotes (a page's title, a peer's reason) cannot drive the terminal.
    private static func printable(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if isControl(scalar) {
                out.append(contentsOf: "\\u{\(String(scalar.value, radix: 16, uppercase: true))}".unicodeScalars)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        (scalar.value < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(scalar.value)
    }

    /// The keys a JSON line writes itself; metadata under one of these names goes under
    /// `metadata.NAME` instead.
    private static let reserved: Set<String> = ["ts", "level", "label", "message", "error"]

    private static let colours: [Logger.Level: String] = [
        .trace: "\u{1B}[2m", .debug: "\u{1B}[2m", .notice: "\u{1B}[36m", .warning: "\u{1B}[33m",
        .error: "\u{1B}[31m", .critical: "\u{1B}[1;31m",
    ]
}

/// The metadata keys runnel sets on every message.
public enum LogKey {
    /// The stage or command a message is about (`parse`, `run`).
    public static let stage = "stage"
    /// The pipeline the process belongs to (`RUNNEL_PIPELINE`, set by the supervisor).
    public static let pipeline = "pipeline"
}

/// Writing JSON for log lines: strings escaped as JSON requires, metadata values as JSON.
enum JSONText {
    static func append(_ value: Logger.Metadata.Value, to out: inout String) {
        switch value {
        case let .string(text): appendString(text, to: &out)
        case let .stringConvertible(convertible): appendString(convertible.description, to: &out)
        case let .array(values):
            out += "["
            for (index, element) in values.enumerated() {
                if index > 0 { out += "," }
                append(element, to: &out)
            }
            out += "]"
        case let .dictionary(dictionary):
            out += "{"
            for (index, (key, element)) in dictionary.sorted(by: { $0.key < $1.key }).enumerated() {
                if index > 0 { out += "," }
                appendString(key, to: &out)
                out += ":"
                append(element, to: &out)
            }
            out += "}"
        }
    }

    static func appendString(_ text: String, to out: inout String) {
        out += "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x2028...0x2029).contains(scalar.value):
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
