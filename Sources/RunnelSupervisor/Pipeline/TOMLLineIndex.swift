/// The line of every table header and key in a TOML text, found in one linear pass, and the
/// guard that keeps a hostile file from TOMLKit.
///
/// TOMLKit (toml++) parses the file but keeps no line per key, so a pipeline file's errors about
/// a key's meaning (unknown, wrong type, out of range) find their line here. This is a scanner,
/// not a parser: it tracks headers, keys, strings and brackets to know which key a line defines,
/// and leaves the judgement of values (numbers, dates, escapes, duplicate keys) to TOMLKit.
///
/// It also refuses what would crash or stall toml++:
/// - text whose structure it cannot follow: a key without `=`, a value missing, an unclosed
///   string, array or inline table, a stray character where `,` or a closing bracket belongs,
///   anything after a value on its line. toml++ fails assertions on some such text and aborts
///   the process, release builds included (`args = ["--db", }`, found by `Scripts/fuzz
///   pipeline-file`); each is a syntax error of TOML, so toml++ only ever sees well-formed
///   structure;
/// - nesting deeper than ``maxDepth`` (toml++ recurses once per dotted-key part or header part,
///   with no limit, and a file of 100,000 parts overflowed the stack);
/// - NUL bytes (TOMLKit hands the text over as a C string).
///
/// ```swift
/// let index = try TOMLLineIndex(scanning: "[[stage]]\nname = \"a\"\n")
/// index.line(of: [.key("stage"), .index(0), .key("name")])   // 2
/// ```
struct TOMLLineIndex: Sendable {
    /// One step of a path: a key, or the position in an array (an `[[array]]` element).
    enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    /// A refusal, at a line: a syntax error, nesting too deep or a NUL byte.
    struct Refusal: Error, Sendable {
        var line: Int
        var message: String
    }

    /// How deep keys, tables, arrays and inline tables may nest. A pipeline file needs four or
    /// five levels (`stage[0].env.NAME`).
    static let maxDepth = PipelineDefaults.maxNesting

    private var lines: [[Component]: Int] = [:]

    /// The line where `path` is defined, or else where its nearest enclosing table is; 1 when
    /// nothing of it was found.
    func line(of path: [Component]) -> Int {
        var path = path[...]
        while !path.isEmpty {
            if let line = lines[Array(path)] { return line }
            path = path.dropLast()
        }
        return 1
    }

    /// Whether the text defines `path` itself (not only something around it).
    func defines(_ path: [Component]) -> Bool { lines[path] != nil }

    /// Scans `text`.
    /// - Throws: ``Refusal`` at the line of the first text it cannot follow, where nesting passes
    ///   ``maxDepth``, or of a NUL byte.
    init(scanning text: String) throws(Refusal) {
        var scanner = Scanner(Array(text.utf8))
        try scanner.run()
        lines = scanner.lines
    }
}

/// The pass itself. `i` only moves forward, so the scan is linear in the text.
private struct Scanner {
    typealias Component = TOMLLineIndex.Component

    /// Text the scanner cannot follow: a syntax error of TOML, at `line` (the current line when
    /// nil).
    struct Lost: Error {
        var message: String
        var line: Int? = nil
    }

    enum Frame {
        case array([Component], count: Int)
        case inlineTable([Component])
    }

    let bytes: [UInt8]
    var i = 0
    var line = 1
    var lines: [[Component]: Int] = [:]
    /// How many elements each `[[array]]` has so far.
    var arrayCounts: [[Component]: Int] = [:]
    /// The path of the current `[table]` or `[[array]]` element.
    var table: [Component] = []

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func run() throws(TOMLLineIndex.Refusal) {
        if let nul = bytes.firstIndex(of: 0) {
            let line = bytes[..<nul].reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            throw TOMLLineIndex.Refusal(line: line, message: "a NUL byte (a pipeline file is text)")
        }
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { i = 3 }  // a byte-order mark: toml++ skips it too
        while i < bytes.count {
            do {
                try statement()
            } catch let lost as Lost {
                throw TOMLLineIndex.Refusal(line: lost.line ?? line, message: lost.message)
            } catch let refusal as TOMLLineIndex.Refusal {
                throw refusal
            } catch {
                throw TOMLLineIndex.Refusal(line: line, message: "\(error)")
            }
        }
    }

    /// One line's statement: a header, a key and its value, a comment or nothing.
    mutating func statement() throws {
        skipSpaces()
        guard i < bytes.count else { return }
        switch bytes[i] {
        case 0x0A:
            line += 1
            i += 1
        case UInt8(ascii: "#"):
            skipComment()
        case UInt8(ascii: "["):
            try header()
            try endOfLine(after: "a table header")
        default:
            let keys = try key()
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
                throw Lost(message: "expected = after the key \(keys.joined(separator: "."))")
            }
            i += 1
            let path = table + keys.map(Component.key)
            try checkDepth(path.count)
            record(path)
            try value(at: path)
            try endOfLine(after: "a value")
        }
    }

    /// Only spaces and a comment may follow a header or a value on its line.
    mutating func endOfLine(after what: String) throws {
        skipSpaces()
        guard i < bytes.count, bytes[i] != 0x0A, bytes[i] != UInt8(ascii: "#") else { return }
        throw Lost(message: "expected the end of the line after \(what), not \(Self.describe(bytes[i])) (one key = value per line)")
    }

    mutating func header() throws {
        let isArray = i + 1 < bytes.count && bytes[i + 1] == UInt8(ascii: "[")
        i += isArray ? 2 : 1
        let keys = try key()
        var path: [Component] = []
        for (n, name) in keys.enumerated() {
            path.append(.key(name))
            let isLast = n == keys.count - 1
            if isLast && isArray {
                let count = arrayCounts[path, default: 0]
                arrayCounts[path] = count + 1
                record(path)
                path.append(.index(count))
            } else if let count = arrayCounts[path] {
                path.append(.index(count - 1))  // a table inside the last element so far
            }
        }
        try checkDepth(path.count)
        record(path)
        table = path
        skipSpaces()
        for _ in 0..<(isArray ? 2 : 1) {
            guard i < bytes.count, bytes[i] == UInt8(ascii: "]") else {
                throw Lost(message: isArray ? "expected ']]' at the end of an array-of-tables header: [[name]]" : "expected ']' at the end of a table header: [name]")
            }
            i += 1
        }
    }

    /// A value, with the arrays and inline tables in it, to the end of the outermost one.
    mutating func value(at path: [Component]) throws {
        var frames: [Frame] = []
        var opened: [Int] = []  // the line where each frame opened
        var current = path
        var needValue = true
        /// The end of the text inside an array or inline table, or where a value belongs.
        func unclosed() -> Lost {
            switch frames.last {
            case .array?: Lost(message: "the array opened here is not closed: expected ]", line: opened.last)
            case .inlineTable?: Lost(message: "the inline table opened here is not closed: expected }", line: opened.last)
            case nil: Lost(message: "a value is missing after =")
            }
        }
        /// Where the innermost array or table began, when not on the line of the error.
        var openedAbove: String {
            guard let start = opened.last, start != line else { return "" }
            return " opened on line \(start)"
        }
        while true {
            if needValue {
                skipBlank(newlines: !frames.isEmpty)
                guard i < bytes.count else { throw unclosed() }
                switch bytes[i] {
                case UInt8(ascii: "["):
                    try checkDepth(current.count + 1)
                    i += 1
                    frames.append(.array(current, count: 0))
                    opened.append(line)
                    skipBlank(newlines: true)
                    if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                        i += 1
                        frames.removeLast()
                        opened.removeLast()
                        needValue = false
                    } else {
                        current.append(.index(0))
                    }
                    continue
                case UInt8(ascii: "{"):
                    try checkDepth(current.count + 1)
                    i += 1
                    frames.append(.inlineTable(current))
                    opened.append(line)
                    skipBlank(newlines: true)
                    if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                        i += 1
                        frames.removeLast()
                        opened.removeLast()
                        needValue = false
                    } else {
                        current = try inlineKey(in: current)
                    }
                    continue
                case UInt8(ascii: "\""), UInt8(ascii: "'"):
                    try skipString()
                default:
                    try bareValue()
                }
                needValue = false
            }
            guard let frame = frames.last else { return }
            skipBlank(newlines: true)
            guard i < bytes.count else { throw unclosed() }
            switch (frame, bytes[i]) {
            case let (.array(base, count), UInt8(ascii: ",")):
                i += 1
                frames[frames.count - 1] = .array(base, count: count + 1)
                skipBlank(newlines: true)
                if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                    i += 1
                    frames.removeLast()
                    opened.removeLast()
                } else {
                    current = base + [.index(count + 1)]
                    needValue = true
                }
            case (.array, UInt8(ascii: "]")), (.inlineTable, UInt8(ascii: "}")):
                i += 1
                frames.removeLast()
                opened.removeLast()
            case let (.inlineTable(base), UInt8(ascii: ",")):
                i += 1
                current = try inlineKey(in: base)
                needValue = true
            case let (.array, byte):
                throw Lost(message: "expected , or ] in the array\(openedAbove), not \(Self.describe(byte))")
            case let (.inlineTable, byte):
                throw Lost(message: "expected , or } in the inline table\(openedAbove), not \(Self.describe(byte))")
            }
        }
    }

    /// A number, boolean or date: its characters up to a delimiter (TOMLKit judges them). A date
    /// and a time may be joined by one space (`1979-05-27 07:32:00`).
    mutating func bareValue() throws {
        let start = i
        while i < bytes.count, !isDelimiter(bytes[i]) { i += 1 }
        guard i > start else {
            throw i < bytes.count && bytes[i] != 0x0A && bytes[i] != UInt8(ascii: "#")
                ? Lost(message: "expected a value, not \(Self.describe(bytes[i]))")
                : Lost(message: "a value is missing")
        }
        let isDigit = { (b: UInt8) in b >= 0x30 && b <= 0x39 }
        if i - start == 10, bytes[start + 4] == UInt8(ascii: "-"), bytes[start + 7] == UInt8(ascii: "-"),
            i + 3 < bytes.count, bytes[i] == 0x20, isDigit(bytes[i + 1]), isDigit(bytes[i + 2]), bytes[i + 3] == UInt8(ascii: ":")
        {
            i += 1
            while i < bytes.count, !isDelimiter(bytes[i]) { i += 1 }
        }
    }

    /// A byte as a person reads it in an error: `}`, or its code when it is not printable ASCII.
    static func describe(_ byte: UInt8) -> String {
        if byte > 0x20 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        return "byte 0x" + String(byte, radix: 16, uppercase: true)
    }

    /// `key =` inside an inline table; returns the path of its value.
    mutating func inlineKey(in base: [Component]) throws -> [Component] {
        skipBlank(newlines: true)
        guard i < bytes.count else { throw Lost(message: "the inline table is not closed: expected }") }
        let keys = try key()
        skipSpaces()
        guard i < bytes.count, bytes[i] == UInt8(ascii: "=") else {
            throw Lost(message: "expected = after the key \(keys.joined(separator: ".")) in the inline table")
        }
        i += 1
        let path = base + keys.map(Component.key)
        try checkDepth(path.count)
        record(path)
        return path
    }

    /// A dotted key: bare, "basic" or 'literal' parts joined by dots.
    mutating func key() throws -> [String] {
        var parts: [String] = []
        while true {
            skipSpaces()
            guard i < bytes.count else { throw Lost(message: "a key is missing") }
            switch bytes[i] {
            case UInt8(ascii: "\""): parts.append(try basicString())
            case UInt8(ascii: "'"): parts.append(try literalString())
            default:
                let start = i
                while i < bytes.count, isBareKey(bytes[i]) { i += 1 }
                guard i > start else {
                    throw Lost(message: "expected a key, not \(Self.describe(bytes[i])): a key is ASCII letters, digits, - and _, or quoted: \"key\"")
                }
                parts.append(String(decoding: bytes[start..<i], as: UTF8.self))
            }
            try checkDepth(table.count + parts.count)
            skipSpaces()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ".") else { return parts }
            i += 1
        }
    }

    // MARK: Strings

    /// Skips a string value of any of TOML's four kinds, counting the lines of multi-line ones.
    mutating func skipString() throws {
        let quote = bytes[i]
        if i + 2 < bytes.count, bytes[i + 1] == quote, bytes[i + 2] == quote {
            let opened = line
            i += 3
            while i < bytes.count {
                let b = bytes[i]
                if b == 0x0A { line += 1 }
                if b == UInt8(ascii: "\\") && quote == UInt8(ascii: "\"") {
                    i += 1
                    if i < bytes.count, bytes[i] == 0x0A { line += 1 }
                    i += 1
                    continue
                }
                if b == quote, i + 2 < bytes.count, bytes[i + 1] == quote, bytes[i + 2] == quote {
                    i += 3
                    while i < bytes.count, bytes[i] == quote { i += 1 }  // up to two quotes end the content
                    return
                }
                i += 1
            }
            throw Lost(message: "the multi-line string opened here is not closed: expected \(quote == UInt8(ascii: "\"") ? "\"\"\"" : "'''")", line: opened)
        }
        _ = quote == UInt8(ascii: "\"") ? try basicString() : try literalString()
    }

    /// A one-line "basic" string, its escapes decoded (a quoted key must match TOMLKit's).
    mutating func basicString() throws -> String {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count, bytes[i] != 0x0A {
            let b = bytes[i]
            i += 1
            if b == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard b == UInt8(ascii: "\\"), i < bytes.count else {
                out.append(b)
                continue
            }
            let escape = bytes[i]
            i += 1
            switch escape {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"), UInt8(ascii: "U"):
                let count = escape == UInt8(ascii: "u") ? 4 : 8
                guard i + count <= bytes.count,
                    let value = UInt32(String(decoding: bytes[i..<i + count], as: UTF8.self), radix: 16),
                    let scalar = Unicode.Scalar(value)
                else { throw Lost(message: "\\\(Character(Unicode.Scalar(escape))) is followed by \(count) hex digits of a Unicode scalar") }
                out.append(contentsOf: Array(String(Character(scalar)).utf8))
                i += count
            default: out.append(escape)
            }
        }
        throw Lost(message: "the string is not closed on its line: expected \"")
    }

    mutating func literalString() throws -> String {
        i += 1
        let start = i
        while i < bytes.count, bytes[i] != UInt8(ascii: "'"), bytes[i] != 0x0A { i += 1 }
        guard i < bytes.count, bytes[i] == UInt8(ascii: "'") else { throw Lost(message: "the string is not closed on its line: expected '") }
        defer { i += 1 }
        return String(decoding: bytes[start..<i], as: UTF8.self)
    }

    // MARK: Lines, depth, whitespace

    mutating func record(_ path: [Component]) {
        for length in stride(from: path.count, through: 1, by: -1) {
            let prefix = Array(path.prefix(length))
            if lines[prefix] != nil { break }
            lines[prefix] = line
        }
    }

    func checkDepth(_ depth: Int) throws(TOMLLineIndex.Refusal) {
        guard depth <= TOMLLineIndex.maxDepth else {
            throw TOMLLineIndex.Refusal(
                line: line,
                message: "keys, tables and arrays nest more than \(TOMLLineIndex.maxDepth) deep (a pipeline file needs a few levels)")
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
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x09 || bytes[i] == 0x0D { i += 1 }
    }

    mutating func skipComment() {
        while i < bytes.count, bytes[i] != 0x0A { i += 1 }
    }

    /// Spaces and comments, and with `newlines` line ends too (inside arrays).
    mutating func skipBlank(newlines: Bool) {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0D: i += 1
            case 0x0A where newlines:
                line += 1
                i += 1
            case UInt8(ascii: "#") where newlines: skipComment()
            default: return
            }
        }
    }

}
