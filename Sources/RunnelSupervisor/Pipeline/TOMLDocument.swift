/// A TOML document, parsed with the line of every key kept, so a pipeline file's errors can name
/// the line and the key.
///
/// It reads the part of TOML 1.0 that configuration files use: comments, `[table]`,
/// `[[array.of.tables]]`, dotted keys, basic and literal strings (one line), integers (with `_`),
/// floats, booleans, arrays (over several lines) and inline tables. Dates and multi-line strings
/// are refused with a clear error.
public struct TOMLDocument: Sendable {
    /// A value and the line it was written on.
    public indirect enum Value: Sendable, Equatable {
        case string(String)
        case integer(Int)
        case float(Double)
        case bool(Bool)
        case array([Value])
        case table(Table)
    }

    /// Keys in file order, each with its value and line.
    public struct Table: Sendable, Equatable {
        public var entries: [(key: String, value: Value, line: Int)] = []
        public var line: Int

        public init(line: Int) { self.line = line }

        public subscript(key: String) -> Value? {
            entries.first { $0.key == key }?.value
        }

        public func line(of key: String) -> Int {
            entries.first { $0.key == key }?.line ?? line
        }

        public static func == (a: Table, b: Table) -> Bool {
            a.entries.map(\.key) == b.entries.map(\.key) && zip(a.entries, b.entries).allSatisfy { $0.value == $1.value }
        }

        mutating func set(_ key: String, _ value: Value, line: Int) throws(TOMLError) {
            if entries.contains(where: { $0.key == key }) {
                throw TOMLError(line: line, message: "key \"\(key)\" is defined twice")
            }
            entries.append((key, value, line))
        }
    }

    public var root: Table

    /// Parses `text`.
    /// - Throws: ``TOMLError`` with the line and what was expected.
    public init(parsing text: String) throws(TOMLError) {
        var parser = Parser(Array(text.utf8))
        root = try parser.parse()
    }
}

/// A syntax error in a TOML file, at a line.
public struct TOMLError: Error, Sendable, CustomStringConvertible {
    public var line: Int
    public var message: String
    public var description: String { "line \(line): \(message)" }
}

private struct Parser {
    /// How deep arrays, inline tables and dotted keys may nest. A pipeline file needs three or
    /// four; the limit keeps a hostile file from exhausting the stack.
    static let maxDepth = 32

    let bytes: [UInt8]
    var i = 0
    var line = 1
    /// Arrays and inline tables open around the value being read.
    var depth = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func parse() throws(TOMLError) -> TOMLDocument.Table {
        var root = TOMLDocument.Table(line: 1)
        var path: [String] = []  // current [table] or [[array]] element
        var isArrayElement = false
        while true {
            skipBlankAndComments()
            guard i < bytes.count else { break }
            if bytes[i] == UInt8(ascii: "[") {
                let headerLine = line
                let array = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "[")
                i += array ? 2 : 1
                let keys = try dottedKey()
                skipSpaces()
                for _ in 0..<(array ? 2 : 1) {
                    guard i < bytes.count, bytes[i] == UInt8(ascii: "]") else { throw error("expected ']' to close the table header") }
                    i += 1
                }
                try endOfLine()
                path = keys
                isArrayElement = array
                try open(&root, keys, array: array, line: headerLine)
                continue
            }
            let keyLine = line
            let keys = try dottedKey()
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw error("expected '=' after the key \"\(keys.joined(separator: "."))\"") }
            i += 1
            skipSpaces()
            let value = try parseValue()
            try endOfLine()
            try insert(&root, path, isArrayElement, keys, value, line: keyLine)
        }
        return root
    }

    // MARK: Tables

    private func error(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }

    mutating func open(_ root: inout TOMLDocument.Table, _ keys: [String], array: Bool, line: Int) throws(TOMLError) {
        try Self.modify(&root, keys.dropLast(), line: line) { (table) throws(TOMLError) in
            let last = keys.last!
            if array {
                if let index = table.entries.firstIndex(where: { $0.key == last }) {
                    guard case var .array(items) = table.entries[index].value else {
                        throw TOMLError(line: line, message: "\"\(last)\" is not an array of tables")
                    }
                    items.append(.table(.init(line: line)))
                    table.entries[index].value = .array(items)
                } else {
                    try table.set(last, .array([.table(.init(line: line))]), line: line)
                }
            } else if table[last] == nil {
                try table.set(last, .table(.init(line: line)), line: line)
            } else if case .table = table[last]! {
                // Re-opening a table made implicitly by a dotted header is allowed.
            } else {
                throw TOMLError(line: line, message: "\"\(last)\" is defined twice")
            }
        }
    }

    mutating func insert(
        _ root: inout TOMLDocument.Table, _ path: [String], _ isArrayElement: Bool, _ keys: [String],
        _ value: TOMLDocument.Value, line: Int
    ) throws(TOMLError) {
        try Self.modify(&root, path[...], line: line, lastIsArray: isArrayElement) { (table) throws(TOMLError) in
            try Self.modify(&table, keys.dropLast(), line: line) { (inner) throws(TOMLError) in
                try inner.set(keys.last!, value, line: line)
            }
        }
    }

    /// Walks (creating as needed) to the table at `keys` and applies `body`; with `lastIsArray`
    /// the last key names an array of tables and its last element is used.
    static func modify(
        _ table: inout TOMLDocument.Table, _ keys: ArraySlice<String>, line: Int, lastIsArray: Bool = false,
        _ body: (inout TOMLDocument.Table) throws(TOMLError) -> Void
    ) throws(TOMLError) {
        guard let first = keys.first else { return try body(&table) }
        let rest = keys.dropFirst()
        if let index = table.entries.firstIndex(where: { $0.key == first }) {
            switch table.entries[index].value {
            case var .table(inner):
                try modify(&inner, rest, line: line, lastIsArray: lastIsArray, body)
                table.entries[index].value = .table(inner)
            case var .array(items) where !items.isEmpty:
                guard case var .table(inner) = items[items.count - 1] else { fallthrough }
                try modify(&inner, rest, line: line, lastIsArray: lastIsArray, body)
                items[items.count - 1] = .table(inner)
                table.entries[index].value = .array(items)
            default:
                throw TOMLError(line: line, message: "\"\(first)\" is a value, not a table")
            }
        } else {
            var inner = TOMLDocument.Table(line: line)
            try modify(&inner, rest, line: line, lastIsArray: lastIsArray, body)
            try table.set(first, .table(inner), line: line)
        }
    }

    // MARK: Values

    mutating func parseValue() throws(TOMLError) -> TOMLDocument.Value {
        guard i < bytes.count else { throw error("a value is missing") }

        switch bytes[i] {
        case UInt8(ascii: "\""):
            if i + 2 < bytes.count, bytes[i + 1] == UInt8(ascii: "\""), bytes[i + 2] == UInt8(ascii: "\"") {
                throw error("multi-line strings are not supported in pipeline files")
            }
            return .string(try basicString())
        case UInt8(ascii: "'"):
            return .string(try literalString())
        case UInt8(ascii: "["):
            try enterNested()
            defer { depth -= 1 }
            i += 1
            var items: [TOMLDocument.Value] = []
            while true {
                skipBlankAndComments()
                guard i < bytes.count else { throw error("unterminated array") }
                if bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array(items)
                }
                items.append(try parseValue())
                skipBlankAndComments()
                guard i < bytes.count else { throw error("unterminated array") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                } else if bytes[i] != UInt8(ascii: "]") {
                    throw error("expected ',' or ']' in an array")
                }
            }
        case UInt8(ascii: "{"):
            try enterNested()
            defer { depth -= 1 }
            i += 1
            var table = TOMLDocument.Table(line: line)
            skipSpaces()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .table(table)
            }
            while true {
                skipSpaces()
                let keyLine = line
                let keys = try dottedKey()
                skipSpaces()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else { throw error("expected '=' in an inline table") }
                i += 1
                skipSpaces()
                let value = try parseValue()
                try Self.modify(&table, keys.dropLast(), line: keyLine) { (t) throws(TOMLError) in
                    try t.set(keys.last!, value, line: keyLine)
                }
                skipSpaces()
                guard i < bytes.count else { throw error("unterminated inline table") }
                if bytes[i] == UInt8(ascii: ",") {
                    i += 1
                } else if bytes[i] == UInt8(ascii: "}") {
                    i += 1
                    return .table(table)
                } else {
                    throw error("expected ',' or '}' in an inline table")
                }
            }
        default:
            let start = i
            while i < bytes.count, !isDelimiter(bytes[i]) { i += 1 }
            let word = String(decoding: bytes[start..<i], as: UTF8.self)
            switch word {
            case "true": return .bool(true)
            case "false": return .bool(false)
            default:
                let digits = word.replacingOccurrences(of: "_", with: "")
                if let n = Int(digits) { return .integer(n) }
                if let x = Double(digits), digits.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) { return .float(x) }
                if word.isEmpty { throw error("a value is missing") }
                if word.contains("-") && word.contains(":") || word.count == 10 && word.filter({ $0 == "-" }).count == 2 {
                    throw error("dates and times are not supported in pipeline files: \(word)")
                }
                throw error("not a value: \(word) (strings need quotes)")
            }
        }
    }

    mutating func basicString() throws(TOMLError) -> String {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "\"") {
                i += 1
                return String(decoding: out, as: UTF8.self)
            }
            if b == 0x0A { break }
            if b == UInt8(ascii: "\\") {
                i += 1
                guard i < bytes.count else { break }
                switch bytes[i] {
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "\""): out.append(0x22)
                case UInt8(ascii: "\\"): out.append(0x5C)
                case UInt8(ascii: "u"), UInt8(ascii: "U"):
                    let n = bytes[i] == UInt8(ascii: "u") ? 4 : 8
                    guard i + n < bytes.count, let scalar = UInt32(String(decoding: bytes[i + 1...i + n], as: UTF8.self), radix: 16),
                        let unicode = Unicode.Scalar(scalar)
                    else { throw error("bad unicode escape") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                    i += n
                default: throw error("unknown escape \\\(Character(Unicode.Scalar(bytes[i])))")
                }
                i += 1
                continue
            }
            out.append(b)
            i += 1
        }
        throw error("unterminated string")
    }

    mutating func literalString() throws(TOMLError) -> String {
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "'"), bytes[i] != 0x0A { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "'") else { throw error("unterminated string") }
        defer { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    /// Counts one more array or inline table around the value being read.
    /// - Throws: ``TOMLError`` past ``maxDepth``, at the line it happens.
    mutating func enterNested() throws(TOMLError) {
        guard depth < Self.maxDepth else {
            throw error("arrays and inline tables nest more than \(Self.maxDepth) deep (a pipeline file needs a few levels)")
        }
        depth += 1
    }

    // MARK: Keys and whitespace

    mutating func dottedKey() throws(TOMLError) -> [String] {
        var keys: [String] = []
        while true {
            skipSpaces()
            guard i < bytes.count else { throw error("a key is missing") }
            if bytes[i] == UInt8(ascii: "\"") {
                keys.append(try basicString())
            } else if bytes[i] == UInt8(ascii: "'") {
                keys.append(try literalString())
            } else {
                let start = i
                while i < bytes.count, isBareKey(bytes[i]) { i += 1 }
                guard i > start else { throw error("a key is missing") }
                keys.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ".") else { return keys }
            guard keys.count < Self.maxDepth else {
                throw error("a dotted key of more than \(Self.maxDepth) parts (a pipeline file needs a few)")
            }
            i += 1
        }
    }

    func isBareKey(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2D
    }

    func isDelimiter(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D || b == UInt8(ascii: ",") || b == UInt8(ascii: "]")
            || b == UInt8(ascii: "}") || b == UInt8(ascii: "#")
    }

    mutating func skipSpaces() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 { i += 1 }
    }

    mutating func skipBlankAndComments() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A:
                line += 1
                i += 1
            case UInt8(ascii: "#"):
                while i < bytes.count, bytes[i] != 0x0A { i += 1 }
            default: return
            }
        }
    }

    mutating func endOfLine() throws(TOMLError) {
        skipSpaces()
        if i < bytes.count, bytes[i] == UInt8(ascii: "#") {
            while i < bytes.count, bytes[i] != 0x0A { i += 1 }
        }
        if i < bytes.count, bytes[i] == 0x0D { i += 1 }
        guard i >= bytes.count || bytes[i] == 0x0A else { throw error("unexpected text after the value") }
    }
}

import Foundation
