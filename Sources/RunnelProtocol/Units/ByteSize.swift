/// An amount of bytes as a person writes it: plain bytes (`65536`) or binary units (`64KiB`,
/// `64MiB`, `1GiB`, `1.5GiB`, `1TiB`). Every size flag and pipeline key reads this one syntax.
///
/// The old spellings `K`, `KB`, `M`, `MB`, `G`, `GB` (also powers of 1024) are still read, and
/// ``isLegacy`` tells the caller to warn. Parsing never traps: sizes beyond ``maximum`` (1 PiB)
/// are refused.
///
/// ```swift
/// let limit = try ByteSize(parsing: "64MiB")   // 67_108_864 bytes
/// print(limit)                                  // "64MiB"
/// ```
public struct ByteSize: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The amount, in bytes (never negative, at most ``maximum``).
    public let bytes: Int
    /// The spelling read was one of the deprecated ones (`64MB`, `512k`).
    public private(set) var isLegacy = false

    /// The largest size accepted: 1 PiB.
    public static let maximum = ByteSize(bytes: 1 << 50)

    /// A size of `bytes`, clamped to `0...maximum`.
    public init(bytes: Int) { self.bytes = min(max(bytes, 0), 1 << 50) }

    private static let units: [(name: String, shift: Int)] = [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10), ("B", 0)]
    private static let legacyUnits: [String: Int] = ["k": 10, "kb": 10, "m": 20, "mb": 20, "g": 30, "gb": 30]

    /// Parses `65536`, `512KiB`, `64MiB`, `1.5GiB`.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` saying what is wrong and showing the syntax.
    public init(parsing text: String) throws(RunnelError) {
        let trimmed = text.trimmingWhitespace
        let digits = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        guard let number = DecimalNumber(parsing: digits) else {
            throw RunnelError(
                .invalidArgument, "'\(text)' is not a size: it must start with a number (write it as 65536, 512KiB, 64MiB or 1GiB)")
        }
        let unitText = String(trimmed.dropFirst(digits.count))
        let shift: Int
        if unitText.isEmpty {
            shift = 0
        } else if let unit = Self.units.first(where: { $0.name.lowercased() == unitText.lowercased() }) {
            shift = unit.shift
        } else if let legacy = Self.legacyUnits[unitText.lowercased()] {
            shift = legacy
            isLegacy = true
        } else {
            throw RunnelError(
                .invalidArgument, "'\(text)' is not a size: '\(unitText)' is not a unit (use B, KiB, MiB, GiB or TiB)")
        }
        guard let bytes = number.times(Int64(1) << shift), bytes <= Int64(Self.maximum.bytes) else {
            throw RunnelError(.invalidArgument, "'\(text)' is larger than 1024TiB, the most a size may be")
        }
        self.bytes = Int(bytes)
    }

    /// The shortest exact spelling: `64MiB`, `1536KiB`, `100`.
    public var description: String {
        for unit in Self.units where unit.shift > 0 && bytes > 0 && bytes % (1 << unit.shift) == 0 {
            return "\(bytes >> unit.shift)\(unit.name)"
        }
        return "\(bytes)"
    }

    public static func < (a: ByteSize, b: ByteSize) -> Bool { a.bytes < b.bytes }
    public static func == (a: ByteSize, b: ByteSize) -> Bool { a.bytes == b.bytes }
    public func hash(into hasher: inout Hasher) { hasher.combine(bytes) }
}
