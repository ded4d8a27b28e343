import RunnelProtocol

/// Reads typed values from a pipeline file's tables, noting each problem with its line and key
/// and reading on, so one pass finds them all.
///
/// A value that is wrong is reported and read as absent: the caller falls back to its default
/// and goes on.
struct PipelineReader {
    typealias Table = PipelineTOML.Table

    let file: String
    private(set) var problems: [PipelineProblem] = []
    /// Deprecated spellings found, one line each.
    var warnings: [String] = []

    init(file: String) { self.file = file }

    /// Notes a problem with `key` at `line`.
    mutating func problem(_ line: Int?, _ key: String?, _ message: String, fix: String? = nil) {
        problems.append(PipelineProblem(file: file, line: line, (key.map { "key \"\($0)\": " } ?? "") + message, fix: fix))
    }

    mutating func problem(_ problem: PipelineProblem) { problems.append(problem) }

    /// Notes every key of `table` that is not in `keys`, suggesting the closest known one, or the
    /// table a key belongs in when it is known elsewhere (`elsewhere`: key → table).
    mutating func only(_ keys: [String], in table: Table, table name: String, elsewhere: [String: String] = [:]) {
        for entry in table.entries where !keys.contains(entry.key) {
            let fix: String
            if let suggestion = PipelineProblem.suggestion(for: entry.key, among: keys) {
                fix = "did you mean \"\(suggestion)\"?"
            } else if let home = elsewhere[entry.key] {
                fix = "\(entry.key) belongs in \(home)"
            } else {
                fix = "known keys: \(keys.joined(separator: ", "))"
            }
            problem(entry.line, entry.key, "unknown key in \(name)", fix: fix)
        }
    }

    mutating func table(_ key: String, in table: Table) -> Table? {
        switch table[key] {
        case nil: return nil
        case let .table(value)?: return value
        case let value?:
            problem(table.line(of: key), key, "expected a table, not \(value.kind)")
            return nil
        }
    }

    mutating func string(_ key: String, in table: Table) -> String? {
        switch table[key] {
        case nil: return nil
        case let .string(value)?: return value
        case let value?:
            problem(table.line(of: key), key, "expected a string (in quotes), not \(value.kind)")
            return nil
        }
    }

    /// An array of strings; a string is split at spaces (`args = "--delay 0s"`).
    mutating func strings(_ key: String, in table: Table) -> [String]? {
        switch table[key] {
        case nil: return nil
        case let .string(value)?: return value.split(separator: " ").map(String.init)
        case let .array(items)?:
            var out: [String] = []
            for item in items {
                guard case let .string(value) = item else {
                    problem(table.line(of: key), key, "expected an array of strings, not one with \(item.kind) in it", fix: "quote each item")
                    return nil
                }
                out.append(value)
            }
            return out
        case let value?:
            problem(table.line(of: key), key, "expected an array of strings, not \(value.kind)")
            return nil
        }
    }

    mutating func integer(_ key: String, in table: Table, range: ClosedRange<Int>) -> Int? {
        switch table[key] {
        case nil: return nil
        case let .integer(value)? where range.contains(value): return value
        case let .integer(value)?:
            let bound = value < range.lowerBound ? "at least \(range.lowerBound)" : "at most \(range.upperBound)"
            problem(table.line(of: key), key, "must be \(bound), not \(value)")
            return nil
        case let value?:
            problem(table.line(of: key), key, "expected an integer, not \(value.kind)")
            return nil
        }
    }

    mutating func number(_ key: String, in table: Table, range: ClosedRange<Double>) -> Double? {
        let number: Double
        switch table[key] {
        case nil: return nil
        case let .integer(value)?: number = Double(value)
        case let .float(value)?: number = value
        case let value?:
            problem(table.line(of: key), key, "expected a number, not \(value.kind)")
            return nil
        }
        guard range.contains(number) else {
            problem(table.line(of: key), key, "must be within \(range.lowerBound)…\(range.upperBound), not \(number)")
            return nil
        }
        return number
    }

    mutating func bool(_ key: String, in table: Table) -> Bool? {
        switch table[key] {
        case nil: return nil
        case let .bool(value)?: return value
        case let value?:
            problem(table.line(of: key), key, "expected true or false, not \(value.kind)")
            return nil
        }
    }

    /// One of `cases`, by its raw value.
    mutating func choice<T: RawRepresentable & CaseIterable>(_ key: String, in table: Table, of type: T.Type) -> T?
    where T.RawValue == String {
        guard let text = string(key, in: table) else { return nil }
        if let value = T(rawValue: text) { return value }
        let names = T.allCases.map(\.rawValue)
        let fix = PipelineProblem.suggestion(for: text, among: names).map { "did you mean \"\($0)\"?" }
        problem(table.line(of: key), key, "expected one of \(names.joined(separator: ", ")), not \"\(text)\"", fix: fix)
        return nil
    }

    /// Reads a duration (`period = "60s"`), or else its deprecated spelling with the unit in the
    /// key's name (`period_s = 60`), which adds a line to ``warnings``. Both at once are refused.
    mutating func duration(
        _ key: String, legacy: (key: String, unit: TimeSpan), in table: Table, minimum: TimeSpan = .zero
    ) -> TimeSpan? {
        if table[key] != nil && table[legacy.key] != nil {
            problem(table.line(of: legacy.key), legacy.key, "say \(key) or \(legacy.key), not both", fix: "remove \(legacy.key)")
            return nil
        }
        let span: TimeSpan
        let line: Int
        if let text = string(key, in: table) {
            line = table.line(of: key)
            do throws(RunnelError) {
                span = try TimeSpan(parsing: text)
            } catch {
                problem(line, key, error.message)
                return nil
            }
        } else if let count = integer(legacy.key, in: table, range: 0...Int.max) {
            line = table.line(of: legacy.key)
            do throws(RunnelError) {
                span = try TimeSpan(parsing: "\(count)", legacyUnit: legacy.unit)
            } catch {
                problem(line, legacy.key, error.message)
                return nil
            }
            warnings.append("\(file):\(line): \(legacy.key) = \(count) is deprecated; write \(key) = \"\(span)\"")
        } else {
            return nil
        }
        guard span >= minimum else {
            problem(line, key, "must be at least \(minimum), not \(span)")
            return nil
        }
        return span
    }
}
