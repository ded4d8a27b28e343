import Foundation
import RunnelProtocol
import Synchronization

/// The outputs a stage gave for replayed inputs, set against the outputs captured when those
/// inputs first went through: matched by parent (an output's `parent` is its input's `id`),
/// in order within one input, field by field, with ids, timestamps and timings left out.
///
/// ```swift
/// let comparison = OutputComparison(inputs: ids, captured: old, replayed: new)
/// print(comparison.summary())
/// exit(comparison.isIdentical ? 0 : 1)
/// ```
public struct OutputComparison: Sendable {
    /// One field that differs: its dotted path and both values as JSON (`nil`: absent).
    public struct FieldDiff: Sendable, Hashable, CustomStringConvertible {
        public var path: String
        public var captured: String?
        public var replayed: String?

        /// `body.title: "a" → "b"`.
        public var description: String {
            "\(path): \(captured ?? "(absent)") → \(replayed ?? "(absent)")"
        }
    }

    /// An input whose outputs differ.
    public struct Change: Sendable, Hashable {
        public var inputID: String
        /// Field differences of the outputs present on both sides (output index, diff).
        public var diffs: [(output: Int, diff: FieldDiff)]
        public var missing: Int
        public var extra: Int

        public static func == (a: Change, b: Change) -> Bool {
            a.inputID == b.inputID && a.missing == b.missing && a.extra == b.extra
                && a.diffs.map { $0.diff } == b.diffs.map { $0.diff } && a.diffs.map { $0.output } == b.diffs.map { $0.output }
        }

        public func hash(into hasher: inout Hasher) { hasher.combine(inputID) }
    }

    /// Envelope members and body fields a comparison leaves out by default: they differ on
    /// every run. A path covers everything under it.
    public static let ignoredByDefault: Set<String> = ["id", "seq", "ts", "deadline_ms", "body.fetched_at", "body.elapsed_ms"]

    public let inputs: Int
    public let identical: Int
    public let changes: [Change]
    /// Captured outputs the stage did not give again.
    public var missing: Int { changes.reduce(0) { $0 + $1.missing } }
    /// Outputs the stage gave that were not captured.
    public var extra: Int { changes.reduce(0) { $0 + $1.extra } }
    public var isIdentical: Bool { changes.isEmpty }

    /// - Parameters:
    ///   - inputs: the ids of the replayed inputs, in order.
    ///   - captured: captured outputs by parent id, in the order they were captured.
    ///   - replayed: the stage's outputs by parent id, in the order they came.
    ///   - ignoring: dotted paths to leave out (see ``ignoredByDefault``).
    public init(inputs: [String], captured: [String: [Envelope]], replayed: [String: [Envelope]], ignoring: Set<String> = ignoredByDefault) {
        var identical = 0
        var changes: [Change] = []
        for id in inputs {
            let before = captured[id] ?? []
            let after = replayed[id] ?? []
            var change = Change(inputID: id, diffs: [], missing: max(before.count - after.count, 0), extra: max(after.count - before.count, 0))
            for index in 0..<min(before.count, after.count) {
                for diff in Self.diff(before[index], after[index], ignoring: ignoring) { change.diffs.append((index, diff)) }
            }
            if change.diffs.isEmpty && change.missing == 0 && change.extra == 0 {
                identical += 1
            } else {
                changes.append(change)
            }
        }
        self.inputs = inputs.count
        self.identical = identical
        self.changes = changes
    }

    /// `12 inputs: 11 identical, 1 changed (0 outputs missing, 0 extra)`, then the first few
    /// changes with their first field differences.
    public func summary(showing shown: Int = 5, fieldsEach: Int = 3) -> String {
        var text = "\(inputs) inputs: \(identical) identical, \(changes.count) changed (\(missing) outputs missing, \(extra) extra)\n"
        for change in changes.prefix(shown) {
            text += "  input \(change.inputID):"
            if change.missing > 0 { text += " \(change.missing) outputs missing;" }
            if change.extra > 0 { text += " \(change.extra) extra outputs;" }
            text += "\n"
            for (output, diff) in change.diffs.prefix(fieldsEach) {
                text += "    " + (output > 0 ? "output \(output + 1): " : "") + diff.description + "\n"
            }
            if change.diffs.count > fieldsEach { text += "    … \(change.diffs.count - fieldsEach) more fields\n" }
        }
        if changes.count > shown { text += "  … \(changes.count - shown) more changed inputs\n" }
        return text
    }

    /// The fields in which two messages differ, in path order.
    public static func diff(_ a: Envelope, _ b: Envelope, ignoring: Set<String>) -> [FieldDiff] {
        var left: [String: JSONValue] = [:]
        var right: [String: JSONValue] = [:]
        if let json = Selection.json(of: a) { flatten(json, "", into: &left) }
        if let json = Selection.json(of: b) { flatten(json, "", into: &right) }
        func ignored(_ path: String) -> Bool {
            ignoring.contains(path) || ignoring.contains { path.hasPrefix($0 + ".") }
        }
        return Set(left.keys).union(right.keys).sorted().compactMap { path -> FieldDiff? in
            guard !ignored(path), left[path] != right[path] else { return nil }
            return FieldDiff(path: path, captured: left[path].map(render), replayed: right[path].map(render))
        }
    }

    /// Leaves of a JSON value by dotted path (array items by index); empty objects and arrays
    /// are leaves too, so `{}` and absent differ.
    static func flatten(_ value: JSONValue, _ prefix: String, into out: inout [String: JSONValue]) {
        func join(_ key: String) -> String { prefix.isEmpty ? key : prefix + "." + key }
        switch value {
        case let .object(members) where !members.isEmpty:
            for (key, member) in members { flatten(member, join(key), into: &out) }
        case let .array(items) where !items.isEmpty:
            for (index, item) in items.enumerated() { flatten(item, join(String(index)), into: &out) }
        default:
            out[prefix] = value
        }
    }

    /// A value as short JSON text, cut at 80 characters.
    static func render(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "?"
        return text.count > 80 ? String(text.prefix(79)) + "…" : text
    }
}

/// Outputs a stage sends back in call mode, kept by their parent's id. When an input is resent
/// after a reconnect, its outputs on the later connection replace the earlier ones.
public final class CallReplies: Sendable {
    private struct Entry {
        var connection: Int
        var outputs: [Envelope]
    }

    private let entries = Mutex<[String: Entry]>([:])

    public init() {}

    /// Keeps one output that came back on connection number `connection`.
    public func record(_ output: Envelope, connection: Int) {
        let parent = output.parent ?? ""
        entries.withLock { entries in
            if let entry = entries[parent], entry.connection == connection {
                entries[parent]!.outputs.append(output)
            } else if (entries[parent]?.connection ?? Int.min) < connection {
                entries[parent] = Entry(connection: connection, outputs: [output])
            }
        }
    }

    /// The outputs by parent id.
    public var byParent: [String: [Envelope]] { entries.withLock { $0.mapValues(\.outputs) } }
}
