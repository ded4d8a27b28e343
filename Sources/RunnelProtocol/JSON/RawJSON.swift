import Foundation

/// A JSON value kept as its bytes: the body of a message until a stage asks for it.
///
/// Relaying, capture and replay move bodies without decoding them; a stage decodes the body into
/// its typed model with ``decode(_:)`` and builds an output body with ``init(encoding:)``.
///
/// ```swift
/// let page = try envelope.body.decode(PageFetched.self)
/// let body = try RawJSON(encoding: article)
/// ```
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 JSON text of one value, without surrounding whitespace.
    public var bytes: [UInt8]

    /// Wraps bytes that are already known to be one valid JSON value, valid UTF-8 included:
    /// the News readers copy its strings without checking them again.
    public init(validated bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses `text` and keeps it if it is one valid JSON value.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` when it is not.
    public init(_ text: String) throws(RunnelError) {
        let bytes = Array(text.utf8)
        do {
            try bytes.withUnsafeBufferPointer { (buffer) throws(JSONSyntaxError) in
                var scanner = JSONScanner(buffer)
                let range = try scanner.scanValue()
                try scanner.expectEnd()
                _ = range
            }
        } catch {
            throw RunnelError(.invalidArgument, "not valid JSON: \(error)")
        }
        self.bytes = bytes
    }

    /// Encodes a value (usually one of the News models) as the body of a message.
    public init<T: Encodable>(encoding value: T) throws(RunnelError) {
        do {
            self.bytes = Array(try RawJSON.encoder.encode(value))
        } catch {
            throw RunnelError(.internal, "could not encode \(T.self): \(error)")
        }
    }

    /// `null`.
    public static let null = RawJSON(validated: Array("null".utf8))
    /// `{}`.
    public static let emptyObject = RawJSON(validated: Array("{}".utf8))

    /// Decodes the value into `T`.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT`, naming the field path and the reason.
    public func decode<T: Decodable>(_ type: T.Type) throws(RunnelError) -> T {
        do {
            return try RawJSON.decoder.decode(T.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw RunnelError(.invalidArgument, Self.explain(error))
        } catch {
            throw RunnelError(.invalidArgument, "\(error)")
        }
    }

    public var description: String { String(decoding: bytes, as: UTF8.self) }

    // MARK: Coders

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    static let decoder = JSONDecoder()

    /// Turns a `DecodingError` into "`body.images[2].src`: expected a string, found a number".
    static func explain(_ error: DecodingError, prefix: String = "body") -> String {
        func path(_ keys: [any CodingKey]) -> String {
            var text = prefix
            for key in keys {
                if let i = key.intValue { text += "[\(i)]" } else { text += ".\(key.stringValue)" }
            }
            return text
        }
        switch error {
        case let .keyNotFound(key, context):
            return "\(path(context.codingPath + [key])): required field is missing"
        case let .typeMismatch(type, context):
            return "\(path(context.codingPath)): expected \(describe(type))"
        case let .valueNotFound(type, context):
            return "\(path(context.codingPath)): expected \(describe(type)), found null"
        case let .dataCorrupted(context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        if type == String.self { return "a string" }
        if type == Int.self || type == Int64.self || type == UInt64.self || type == Int32.self { return "an integer" }
        if type == Double.self || type == Float.self { return "a number" }
        if type == Bool.self { return "true or false" }
        let name = "\(type)"
        if name.hasPrefix("Array") { return "an array" }
        if name.hasPrefix("Dictionary") { return "an object" }
        return "an object"
    }
}

extension RawJSON: Codable {
    public init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(JSONValue.self)
        self.bytes = Array(try RawJSON.encoder.encode(value))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(try RawJSON.decoder.decode(JSONValue.self, from: Data(bytes)))
    }
}
