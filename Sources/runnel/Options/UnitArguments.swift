import ArgumentParser
import RunnelProtocol

// One syntax for every duration (`250ms`, `30s`, `10m`, `1h`) and every size (`64KiB`, `64MiB`,
// plain bytes) on the command line: the parsing is ``TimeSpan`` and ``ByteSize``'s; this file
// only hands it to swift-argument-parser and says, once, when an old spelling was used.

extension TimeSpan {
    /// Parses a duration flag's value, refusing values outside `range` and warning when
    /// a bare number is given to a flag that used to take one in `legacyUnit`.
    ///
    /// ```swift
    /// @Option(help: .value("…", default: TimeSpan.seconds(30), example: "45s"),
    ///         transform: TimeSpan.argument("--ack-timeout", legacyUnit: .seconds(1)))
    /// var ackTimeout = TimeSpan.seconds(30)
    /// ```
    static func argument(
        _ flag: String, legacyUnit: TimeSpan? = nil, range: ClosedRange<TimeSpan> = .zero ... .maximum
    ) -> @Sendable (String) throws -> TimeSpan {
        quantity(flag, range: range, describe: \.description, deprecation: "a bare number is deprecated") { text throws(RunnelError) in
            let span = try TimeSpan(parsing: text, legacyUnit: legacyUnit)
            return (span, span.isLegacy)
        }
    }
}

extension ByteSize {
    /// Parses a size flag's value, refusing values outside `range` and warning about the
    /// old unit spellings (`64MB`, `512k`).
    static func argument(
        _ flag: String, range: ClosedRange<ByteSize> = ByteSize(bytes: 0) ... .maximum
    ) -> @Sendable (String) throws -> ByteSize {
        // `1KiB` names its unit; a plain count (`1000`) is said to be bytes.
        let describe: @Sendable (ByteSize) -> String = { size in
            guard size.description.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return size.description }
            return size.bytes == 1 ? "1 byte" : "\(size) bytes"
        }
        return quantity(flag, range: range, describe: describe, deprecation: "that unit is deprecated (sizes are powers of 1024)") {
            text throws(RunnelError) in
            let size = try ByteSize(parsing: text)
            return (size, size.isLegacy)
        }
    }
}

/// The transform of a flag with a unit: `parse` reads the text (and says whether it was an old
/// spelling), the value must lie in `range` (a refusal shows the range and the value as
/// `describe` writes them), and an old spelling is warned about with the new one.
private func quantity<Value: Comparable & CustomStringConvertible & Sendable>(
    _ flag: String, range: ClosedRange<Value>, describe: @escaping @Sendable (Value) -> String, deprecation: String,
    parse: @escaping @Sendable (String) throws(RunnelError) -> (Value, isLegacy: Bool)
) -> @Sendable (String) throws -> Value {
    { text in
        let (value, isLegacy): (Value, Bool)
        do throws(RunnelError) {
            (value, isLegacy) = try parse(text)
        } catch {
            throw ValidationError(error.message)
        }
        guard range.contains(value) else {
            throw ValidationError(
                "\(flag) must be within \(describe(range.lowerBound))…\(describe(range.upperBound)), not \(describe(value))")
        }
        if isLegacy { Deprecation.warn("\(flag) \(text): \(deprecation); write \(flag) \(value)") }
        return value
    }
}

extension ArgumentHelp {
    /// Help for an option: what it does, an example and its default, which `--help` shows as
    /// `… (e.g. 45s) (default: 30s)`. Pass `default` only for values the parser cannot show
    /// itself (those read through a `transform:`); it is the value the property starts with.
    static func value(
        _ abstract: String, default value: (any CustomStringConvertible)? = nil, example: String? = nil,
        valueName: String? = nil
    ) -> ArgumentHelp {
        // The same order and form as the parser's own "(default: …)" for plain values.
        var text = abstract
        if let example { text += " (e.g. \(example))" }
        if let value { text += " (default: \(value))" }
        return ArgumentHelp(text, valueName: valueName)
    }
}

/// Warnings about spellings that still work for this release and will not in the next.
enum Deprecation {
    /// Prints `runnel: warning: MESSAGE` on stderr.
    static func warn(_ message: String) {
        Standard.error("runnel: warning: \(message)\n")
    }
}

extension Deprecation {
    /// The value of a flag that was renamed when durations got units (`--delay-ms 200` is now
    /// `--delay 200ms`): `nil` when the old flag was not given, else its value in `unit`, with
    /// a warning that names the new spelling.
    static func renamed(_ old: String, _ value: Int?, unit: TimeSpan, now new: String) throws -> TimeSpan? {
        guard let value else { return nil }
        guard value >= 0 else { throw ValidationError("\(old) must not be negative") }
        let span: TimeSpan
        do throws(RunnelError) {
            span = try TimeSpan(parsing: "\(value)", legacyUnit: unit)
        } catch {
            throw ValidationError("\(old): \(error.message)")
        }
        warn("\(old) \(value) is deprecated; write \(new) \(span)")
        return span
    }
}
