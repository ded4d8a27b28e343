import TOMLKit

/// A pipeline file's TOML, parsed by TOMLKit, as plain values with the line of every key.
///
/// TOMLKit's tables are classes over toml++ nodes and keep no lines; this copies them into
/// `Sendable` values in the file's order, with lines from a ``TOMLLineIndex``, so the reader of a
/// pipeline file can say where each problem is.
///
/// ```swift
/// let toml = try PipelineTOML(parsing: "[source]\nurls = \"urls.txt\"\n")
/// toml.root["source"]   // .table(…), at line 1
/// ```
struct PipelineTOML: Sendable {
    /// A value of the file. Dates and times are kept as written: no key of a pipeline takes one.
    indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case date(String)
        case array([Value])
        case table(Table)

        /// What it is, for "expected a string, not an integer".
        var kind: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .float: "a number"
            case .bool: "true or false"
            case .date: "a date"
            case .array: "an array"
            case .table: "a table"
            }
        }
    }

    /// Keys in the file's order, each with its value and line.
    struct Table: Sendable, Equatable {
        struct Entry: Sendable, Equatable {
            var key: String
            var value: Value
            var line: Int
        }

        var entries: [Entry] = []
        /// The line of its header (`[pipeline]`, the n-th `[[stage]]`) or of its key.
        var line: Int

        subscript(key: String) -> Value? { entries.first { $0.key == key }?.value }

        func line(of key: String) -> Int { entries.first { $0.key == key }?.line ?? line }
    }

    /// A syntax error: TOMLKit's message, at its line and column.
    struct SyntaxError: Error, Sendable {
        var line: Int
        var column: Int?
        var message: String
    }

    var root: Table

    /// Parses `text` with TOMLKit, after ``TOMLLineIndex`` has checked its structure and nesting
    /// (toml++ aborts the process on some malformed text; it only sees well-formed structure).
    /// - Throws: ``SyntaxError`` at the line of the first syntax error, or where nesting passes
    ///   ``TOMLLineIndex/maxDepth``.
    init(parsing text: String) throws(SyntaxError) {
        try Self.checkTableNames(text)
        let index: TOMLLineIndex
        do {
            index = try TOMLLineIndex(scanning: text)
        } catch {
            throw SyntaxError(line: error.line, column: nil, message: error.message)
        }
        let table: TOMLTable
        do {
            table = try TOMLTable(string: text)
        } catch let error as TOMLParseError {
            throw Self.syntaxError(error, in: text)
        } catch {
            throw SyntaxError(line: 1, column: nil, message: "\(error)")
        }
        root = try Converter(index: index).table(table, at: [], depth: 0)
    }

    /// Refuses a table header whose name starts with anything but a bare-key character, a quote
    /// or `]` (`[é]`, `[[ = "x"`, `[.]`, `[[ [`, `[[` and a carriage return, `[#` after a byte-order
    /// mark): toml++ fails an assertion in `parse_key` on
    /// them and aborts the process, even in a release build (found by `Scripts/fuzz
    /// pipeline-file`). A line of a multi-line array that starts so (`[{…}]`) is refused too; no
    /// pipeline value is an array of arrays or tables.
    static func checkTableNames(_ text: String) throws(SyntaxError) {
        var line = 1
        var atLineStart = true
        var brackets = 0  // `[` read at the start of this line (1 or 2), 0 outside a header
        var checked = false
        // A byte-order mark is not the first character of a line: toml++ skips it too.
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let bytes = text.utf8.starts(with: bom) ? text.utf8.dropFirst(bom.count) : text.utf8[...]
        for byte in bytes {
            if byte == 0x0A {
                // `[` with nothing after it on its line: toml++ reads on into the next (aborts).
                if brackets > 0 && !checked { throw SyntaxError(line: line, column: nil, message: "a table header ends with its line, and its name is ASCII letters, digits, - and _, or quoted: [name]") }
                line += 1
                atLineStart = true
                brackets = 0
                checked = false
                continue
            }
            if byte == 0x20 || byte == 0x09 { continue }
            if atLineStart {
                atLineStart = false
                if byte == 0x5B {
                    brackets = 1
                    continue
                }
            }
            guard brackets > 0, !checked else { continue }
            if brackets == 1 && byte == 0x5B && !checked {
                brackets = 2
                checked = false
                continue
            }
            checked = true
            let bare = (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A || byte >= 0x30 && byte <= 0x39 || byte == 0x5F || byte == 0x2D
            if !(bare || byte == 0x22 || byte == 0x27 || byte == 0x5D) {
                throw SyntaxError(
                    line: line, column: nil,
                    message: "a table name is ASCII letters, digits, - and _, or quoted: [\"name\"]")
            }
        }
        if brackets > 0 && !checked { throw SyntaxError(line: line, column: nil, message: "a table header ends with its line, and its name is ASCII letters, digits, - and _, or quoted: [name]") }
    }

    /// TOMLKit's error in the file's terms: `value: could not determine value type` becomes
    /// `not a value (strings need quotes)` where the value starts with a letter.
    static func syntaxError(_ error: TOMLParseError, in text: String) -> SyntaxError {
        var message = error.description
        for prefix in ["Error while parsing ", "error while parsing "] where message.hasPrefix(prefix) {
            message.removeFirst(prefix.count)
        }
        let line = max(1, error.source.begin.line)
        let column = max(1, error.source.begin.column)
        if message.contains("could not determine value type") {
            let lineText = text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst(line - 1).first ?? ""
            let rest = lineText.dropFirst(column - 1)
            let word = rest.prefix { !" \t,]}#\r".contains($0) }
            if let first = word.first, first.isLetter {
                message = "not a value: \(word) (strings need quotes: \"\(word)\")"
            }
        }
        return SyntaxError(line: line, column: column, message: message)
    }
}

/// Copies TOMLKit's tree into ``PipelineTOML`` values, each with its line.
private struct Converter {
    typealias Component = TOMLLineIndex.Component
    let index: TOMLLineIndex

    func table(_ table: TOMLTable, at path: [Component], depth: Int) throws(PipelineTOML.SyntaxError) -> PipelineTOML.Table {
        var result = PipelineTOML.Table(line: index.line(of: path))
        for key in table.keys {
            guard let value = table[key] else { continue }
            let child = path + [.key(key)]
            result.entries.append(.init(key: key, value: try self.value(value, at: child, depth: depth + 1), line: index.line(of: child)))
        }
        // TOMLKit lists keys sorted; the file's order makes "the first problem" the first line.
        result.entries = result.entries.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
        return result
    }

    func value(_ value: any TOMLValueConvertible, at path: [Component], depth: Int) throws(PipelineTOML.SyntaxError) -> PipelineTOML.Value {
        // The line index refused deeper files already; this holds if a file got past it.
        guard depth <= TOMLLineIndex.maxDepth else {
            throw PipelineTOML.SyntaxError(
                line: index.line(of: path), column: nil,
                message: "keys, tables and arrays nest more than \(TOMLLineIndex.maxDepth) deep (a pipeline file needs a few levels)")
        }
        switch value.type {
        case .string: return .string(value.string ?? "")
        case .int: return .integer(value.int ?? 0)
        case .double: return .float(value.double ?? 0)
        case .bool: return .bool(value.bool ?? false)
        case .date, .time, .dateTime: return .date(value.tomlValue.debugDescription)
        case .array:
            guard let array = value.array else { return .array([]) }
            var items: [PipelineTOML.Value] = []
            for (position, item) in array.enumerated() {
                items.append(try self.value(item, at: path + [.index(position)], depth: depth + 1))
            }
            return .array(items)
        case .table:
            guard let table = value.table else { return .table(.init(line: index.line(of: path))) }
            return .table(try self.table(table, at: path, depth: depth))
        }
    }
}
