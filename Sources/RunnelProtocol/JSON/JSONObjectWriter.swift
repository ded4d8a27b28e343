/// Writes a JSON object member by member, straight into bytes: the bodies of the messages the
/// stages emit most (`page.fetched`, `article.parsed`), which Foundation's encoder would first
/// build as a tree of values and then escape string by string.
///
/// The caller writes members in the order `RawJSON(encoding:)` writes them (keys sorted, checked
/// in debug builds) and passes `nil` for an absent optional, which is left out as the encoder
/// leaves it out, so both give the same bytes.
///
/// ```swift
/// var writer = JSONObjectWriter(reservingCapacity: 256)
/// writer.string("title", "Tin mới")
/// writer.integer("status", 200)
/// let body = writer.finish()   // {"title":"Tin mới","status":200}
/// ```
public struct JSONObjectWriter {
    private var bytes: [UInt8]
    private var isEmpty = true
    #if DEBUG
    private var lastKey: String?
    #endif

    /// A writer of one object, with room for `capacity` bytes.
    public init(reservingCapacity capacity: Int = 0) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    /// A writer of an object nested in `enclosing`'s bytes (taken over until ``closed()``).
    private init(nestedIn enclosing: inout [UInt8]) {
        bytes = []
        swap(&bytes, &enclosing)
        bytes.append(UInt8(ascii: "{"))
    }

    /// The object, closed.
    public consuming func finish() -> RawJSON {
        bytes.append(UInt8(ascii: "}"))
        return RawJSON(validated: bytes)
    }

    /// A string member; left out when `value` is nil.
    public mutating func string(_ name: String, _ value: String?) {
        guard let value else { return }
        key(name)
        JSONString.append(value, to: &bytes)
    }

    /// A string member from its UTF-8 bytes, which must be valid UTF-8.
    /// - Parameter encodedCount: the value's `JSONString.encodedCount(utf8:)`, if known.
    public mutating func string(_ name: String, utf8 value: UnsafeBufferPointer<UInt8>, encodedCount: Int? = nil) {
        key(name)
        JSONString.append(utf8: value, encodedCount: encodedCount, to: &bytes)
    }

    /// An integer member; left out when `value` is nil.
    public mutating func integer(_ name: String, _ value: (some BinaryInteger)?) {
        guard let value else { return }
        key(name)
        JSONString.append(value, to: &bytes)
    }

    /// A number member, written as the encoder writes a `Double`: its shortest form, without a
    /// trailing `.0`. `value` must be finite (JSON has no NaN or infinity).
    public mutating func number(_ name: String, _ value: Double) {
        precondition(value.isFinite, "JSON numbers are finite")
        key(name)
        var text = value.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        bytes.append(contentsOf: text.utf8)
    }

    /// An object member, written by `members`.
    public mutating func object(_ name: String, _ members: (inout JSONObjectWriter) -> Void) {
        key(name)
        var nested = JSONObjectWriter(nestedIn: &bytes)
        members(&nested)
        nested.bytes.append(UInt8(ascii: "}"))
        swap(&bytes, &nested.bytes)
    }

    /// An array of strings; left out when `values` is nil, written when it is empty.
    public mutating func strings(_ name: String, _ values: [String]?) {
        guard let values else { return }
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONString.append(value, to: &bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// An object of strings, its keys sorted; left out when `values` is nil.
    public mutating func stringMap(_ name: String, _ values: [String: String]?) {
        guard let values else { return }
        key(name)
        bytes.append(UInt8(ascii: "{"))
        for (index, key) in values.keys.sorted().enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            JSONString.append(key, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
            JSONString.append(values[key]!, to: &bytes)
        }
        bytes.append(UInt8(ascii: "}"))
    }

    /// An array of objects, each written by `members` (written when empty).
    public mutating func objects<Element>(_ name: String, _ elements: [Element], _ members: (inout JSONObjectWriter, Element) -> Void) {
        key(name)
        bytes.append(UInt8(ascii: "["))
        for (index, element) in elements.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            var nested = JSONObjectWriter(nestedIn: &bytes)
            members(&nested, element)
            nested.bytes.append(UInt8(ascii: "}"))
            swap(&bytes, &nested.bytes)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func key(_ name: String) {
        #if DEBUG
        assert(lastKey.map { $0 < name } ?? true, "members are written in key order: \(name) after \(lastKey ?? "")")
        lastKey = name
        #endif
        if !isEmpty { bytes.append(UInt8(ascii: ",")) }
        isEmpty = false
        JSONString.append(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }
}
