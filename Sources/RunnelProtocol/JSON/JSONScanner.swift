import CJSONScan

/// A validating, allocation-free scanner over one JSON text.
///
/// It checks the grammar (RFC 8259) and the UTF-8 of every string while it skips values, and
/// reports byte ranges instead of building values. The envelope uses it to read its few header
/// fields and keep `body` as raw bytes, so relaying, capture and replay never decode a body.
///
/// ```swift
/// try bytes.withUnsafeBufferPointer { buffer in
///     var scanner = JSONScanner(buffer)
///     try scanner.scanObject { key, value in print(key, value) }
///     try scanner.expectEnd()
/// }
/// ```
public struct JSONScanner: ~Copyable {
    /// Containers nested deeper than this are refused, so a hostile line cannot exhaust the stack.
    public static let maxDepth = 256

    public let bytes: UnsafeBufferPointer<UInt8>
    public private(set) var index: Int

    public init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
        self.index = 0
    }

    // MARK: Structure

    /// Scans an object, calling `visit` with each key's range (inside the quotes, still escaped)
    /// and each value's range.
    /// Errors thrown by `visit` pass through unchanged; grammar errors are ``JSONSyntaxError``s.
    public mutating func scanObject(_ visit: (Range<Int>, Range<Int>) throws -> Void) throws {
        skipWhitespace()
        guard peek() == UInt8(ascii: "{") else {
            throw error("expected a JSON object")
        }
        index += 1
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try scanString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            let value = try scanValue(depth: 1)
            try visit(key.lowerBound + 1..<key.upperBound - 1, value)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    /// Checks that only whitespace is left.
    public mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if index != bytes.count { throw error("unexpected data after the JSON value") }
    }

    /// Scans any value and returns its range (without surrounding whitespace).
    public mutating func scanValue(depth: Int = 0) throws(JSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = index
        guard let byte = peek() else { throw error("unexpected end of line, a value was expected") }
        switch byte {
        case UInt8(ascii: "\""):
            return try scanString()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            try scanContainer(depth: depth + 1)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
        case UInt8(ascii: "f"):
            try expectLiteral("false")
        case UInt8(ascii: "n"):
            try expectLiteral("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            try scanNumber()
        default:
            throw error("unexpected character \(Self.describe(byte))")
        }
        return start..<index
    }

    private mutating func scanContainer(depth: Int) throws(JSONSyntaxError) {
        guard depth <= Self.maxDepth else {
            throw error("nesting deeper than \(Self.maxDepth) levels")
        }
        let isObject = bytes[index] == UInt8(ascii: "{")
        let close = isObject ? UInt8(ascii: "}") : UInt8(ascii: "]")
        index += 1
        skipWhitespace()
        if peek() == close {
            index += 1
            return
        }
        while true {
            if isObject {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
                _ = try scanString()
                skipWhitespace()
                guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                index += 1
            }
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard let byte = peek() else { throw error("unexpected end of line inside \(isObject ? "an object" : "an array")") }
            if byte == UInt8(ascii: ",") {
                index += 1
            } else if byte == close {
                index += 1
                return
            } else {
                throw error("expected ',' or '\(Character(Unicode.Scalar(close)))'")
            }
        }
    }

    // MARK: Values

    /// Reads the value at `index` and builds it: what ``scanValue(depth:)`` checks, as a
    /// ``JSONValue`` (strings unescaped, numbers as `Double`, the last of repeated keys kept).
    public mutating func readValue(depth: Int = 0) throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard let byte = peek() else { throw error("unexpected end of line, a value was expected") }
        switch byte {
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "{"):
            return .object(try readObject(depth: depth + 1))
        case UInt8(ascii: "["):
            return .array(try readArray(depth: depth + 1))
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let start = index
            try scanNumber()
            // The grammar is checked: the standard library reads it (as infinity past Double's range).
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            return .number(Double(text) ?? .nan)
        default:
            throw error("unexpected character \(Self.describe(byte))")
        }
    }

    private mutating func readString() throws(JSONSyntaxError) -> String {
        let range = try scanString()
        return JSONString.decode(bytes, range.lowerBound + 1..<range.upperBound - 1)
    }

    private mutating func readObject(depth: Int) throws(JSONSyntaxError) -> [String: JSONValue] {
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        index += 1
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            index += 1
            return members
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else { throw error("expected a quoted key") }
            let key = try readString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            members[key] = try readValue(depth: depth)
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"): index += 1; return members
            case nil: throw error("unexpected end of line inside an object")
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func readArray(depth: Int) throws(JSONSyntaxError) -> [JSONValue] {
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth) levels") }
        index += 1
        var items: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            index += 1
            return items
        }
        while true {
            items.append(try readValue(depth: depth))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"): index += 1; return items
            case nil: throw error("unexpected end of line inside an array")
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    // MARK: Scalars

    /// Scans a string at `index` and returns its range, quotes included. Validates escapes and
    /// UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF) and refuses raw control
    /// characters.
    public mutating func scanString() throws(JSONSyntaxError) -> Range<Int> {
        let start = index
        index += 1  // opening quote
        let count = bytes.count
        while index < count {
            // Sixteen bytes at a time over what is certainly well-formed (`runnel_json_string_run`);
            // what it stops at is looked at here, where the error is named.
            index += runnel_json_string_run(bytes.baseAddress! + index, count - index)
            guard index < count else { break }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return start..<index
            } else if byte == UInt8(ascii: "\\") {
                try scanEscape()
            } else if byte < 0x20 {
                throw error("raw control character \(Self.describe(byte)) in a string (escape it)")
            } else {
                try scanUTF8Sequence()
            }
        }
        throw JSONSyntaxError(offset: start, reason: "unterminated string")
    }

    private mutating func scanEscape() throws(JSONSyntaxError) {
        index += 1
        guard let byte = peek() else { throw error("unterminated escape") }
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
            UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
            index += 1
        case UInt8(ascii: "u"):
            index += 1
            for _ in 0..<4 {
                guard let h = peek(), Self.hexValue(h) != nil else { throw error("bad \\u escape") }
                index += 1
            }
        default:
            throw error("unknown escape \\\(Self.describe(byte))")
        }
    }

    /// Checks one multi-byte UTF-8 sequence by its byte ranges (Unicode table 3-7): no overlong
    /// forms, no surrogates, nothing above U+10FFFF.
    @inline(__always)
    private mutating func scanUTF8Sequence() throws(JSONSyntaxError) {
        let lead = bytes[index]
        let count = bytes.count
        @inline(__always) func continuation(_ k: Int, _ range: ClosedRange<UInt8> = 0x80...0xBF) -> Bool {
            index + k < count && range.contains(bytes[index + k])
        }
        switch lead {
        case 0xC2...0xDF:
            guard continuation(1) else { throw error("invalid UTF-8 sequence") }
            index += 2
        case 0xE0...0xEF:
            let second: ClosedRange<UInt8> = lead == 0xE0 ? 0xA0...0xBF : lead == 0xED ? 0x80...0x9F : 0x80...0xBF
            guard continuation(1, second), continuation(2) else { throw error("invalid UTF-8 sequence") }
            index += 3
        case 0xF0...0xF4:
            let second: ClosedRange<UInt8> = lead == 0xF0 ? 0x90...0xBF : lead == 0xF4 ? 0x80...0x8F : 0x80...0xBF
            guard continuation(1, second), continuation(2), continuation(3) else {
                throw error("invalid UTF-8 sequence")
            }
            index += 4
        default:
            throw error("invalid UTF-8 byte \(Self.describe(lead))")
        }
    }

    private mutating func scanNumber() throws(JSONSyntaxError) {
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), Self.isDigit(first) else { throw error("bad number") }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if peek() == UInt8(ascii: ".") {
            index += 1
            guard let d = peek(), Self.isDigit(d) else { throw error("bad number: digits expected after '.'") }
            skipDigits()
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard let d = peek(), Self.isDigit(d) else { throw error("bad number: digits expected in the exponent") }
            skipDigits()
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONSyntaxError) {
        let n = literal.utf8CodeUnitCount
        guard index + n <= bytes.count else { throw error("unexpected end of line") }
        let p = literal.utf8Start
        for k in 0..<n where bytes[index + k] != p[k] {
            throw error("unexpected character \(Self.describe(bytes[index]))")
        }
        index += n
    }

    // MARK: Helpers

    @inline(__always) private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    @inline(__always) private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    @inline(__always) private mutating func skipDigits() {
        while index < bytes.count, Self.isDigit(bytes[index]) { index += 1 }
    }

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }

    static func hexValue(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - 0x30
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - 0x57
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - 0x37
        default: nil
        }
    }

    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x21 && byte < 0x7F { return "'\(Character(Unicode.Scalar(byte)))'" }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }

    private func error(_ reason: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, reason: reason)
    }
}

/// A JSON grammar or encoding error at a byte offset within one line.
public struct JSONSyntaxError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at column \(offset + 1)" }
}
