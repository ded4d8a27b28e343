import RunnelProtocol

/// HTML character references (WHATWG HTML 13.2.5.72–13.2.5.80): named ones from the whole table, legacy names without `;`, decimal and hexadecimal.
///
/// ```swift
/// // "&notit;" → "¬it;": the legacy `&not` is decoded, `it;` stays text.
/// var out: [UInt8] = []
/// let end = CharacterReference.decode(bytes, at: 0, inAttribute: false, into: &out)  // 4, out == "¬"
/// ```
enum CharacterReference {
    /// Decodes the character reference starting at `bytes[start]`, which is `&`.
    /// - Parameters:
    ///   - bytes: UTF-8 markup.
    ///   - start: the index of the `&`.
    ///   - inAttribute: whether the reference is in an attribute value (a legacy name without `;` followed by `=` or an ASCII alphanumeric is then left as text).
    ///   - output: where the decoded UTF-8 bytes are appended.
    /// - Returns: the index just past the reference; nil when there is none at `start` (the `&` is text, nothing appended).
    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, inAttribute: Bool, into output: inout [UInt8]) -> Int? {
        let next = start + 1
        guard start >= 0, next < bytes.count else { return nil }
        if bytes[next] == 0x23 {  // #
            return decodeNumeric(bytes, from: next + 1, into: &output)
        }
        return decodeNamed(bytes, from: next, inAttribute: inAttribute, into: &output)
    }

    // MARK: Named (13.2.5.73)

    /// A name after `&` at `nameStart`: `run;` from the whole table, else the longest legacy
    /// name that begins the alphanumeric run.
    private static func decodeNamed(
        _ bytes: UnsafeBufferPointer<UInt8>, from nameStart: Int, inAttribute: Bool, into output: inout [UInt8]
    ) -> Int? {
        let count = bytes.count
        let table = names
        var end = nameStart
        var hash = FNV1a.offsetBasis
        while end < count, isAlphanumeric(bytes[end]) {
            hash = FNV1a.adding(bytes[end], to: hash)
            end += 1
        }
        let runCount = end - nameStart
        guard runCount >= table.shortestName else { return nil }
        // The whole run and its `;`: only names with a `;` can match, and only this way.
        if end < count, bytes[end] == 0x3B, runCount < table.longestName {
            if let value = table.value(of: FNV1a.adding(0x3B, to: hash), bytes, nameStart, runCount + 1) {
                for byte in value { output.append(byte) }  // at most 6 bytes: faster than a copy
                return end + 1
            }
        }
        // Legacy names, the longest first.
        var length = min(runCount, table.longestLegacyName)
        while length >= table.shortestName {
            var prefix = FNV1a.offsetBasis
            for i in nameStart..<(nameStart + length) { prefix = FNV1a.adding(bytes[i], to: prefix) }
            if let value = table.value(of: prefix, bytes, nameStart, length) {
                let after = nameStart + length
                // In an attribute, `&amp=` and `&ampx` are text (13.2.5.73): the next byte is
                // alphanumeric whenever the name is shorter than the run.
                if inAttribute && (length < runCount || (after < count && bytes[after] == 0x3D)) { return nil }
                for byte in value { output.append(byte) }  // at most 6 bytes: faster than a copy
                return after
            }
            length -= 1
        }
        return nil
    }

    @inline(__always) private static func isAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x30 && b <= 0x39) || (b | 0x20 >= 0x61 && b | 0x20 <= 0x7A)
    }

    // MARK: Numeric (13.2.5.75–13.2.5.80)

    /// Digits after `&#` at `digitsStart`, hexadecimal after an `x` or `X`, and an optional `;`.
    private static func decodeNumeric(_ bytes: UnsafeBufferPointer<UInt8>, from digitsStart: Int, into output: inout [UInt8])
        -> Int?
    {
        let count = bytes.count
        var i = digitsStart
        var code: UInt32 = 0
        if i < count, bytes[i] | 0x20 == 0x78 {  // x X
            i += 1
            let first = i
            while i < count {
                let b = bytes[i]
                let digit: UInt32
                if b >= 0x30 && b <= 0x39 {
                    digit = UInt32(b &- 0x30)
                } else if b | 0x20 >= 0x61 && b | 0x20 <= 0x66 {
                    digit = UInt32((b | 0x20) &- 0x61 &+ 10)
                } else {
                    break
                }
                code = code > 0x10FFFF ? 0x110000 : code &* 16 &+ digit  // clamped: never overflows
                i += 1
            }
            guard i > first else { return nil }
        } else {
            let first = i
            while i < count, bytes[i] >= 0x30 && bytes[i] <= 0x39 {
                code = code > 0x10FFFF ? 0x110000 : code &* 10 &+ UInt32(bytes[i] &- 0x30)
                i += 1
            }
            guard i > first else { return nil }
        }
        if i < count && bytes[i] == 0x3B { i += 1 }
        // scalar(for:) gives no surrogate and nothing above 0x10FFFF: always a scalar.
        if let scalar = Unicode.Scalar(scalar(for: code)) { UTF8.encode(scalar) { output.append($0) } }
        return i
    }

    /// The scalar a numeric reference to `code` stands for (13.2.5.80).
    @inline(__always) static func scalar(for code: UInt32) -> UInt32 {
        if code == 0 || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF) { return 0xFFFD }
        if code >= 0x80 && code <= 0x9F {
            let mapped = windows1252[Int(code - 0x80)]
            return mapped == 0 ? code : UInt32(mapped)
        }
        return code
    }

    /// The spec's replacements for 0x80–0x9F, 0 where the code point stays as it is.
    private static let windows1252: [UInt16] = [
        0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
        0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
    ]

    // MARK: The table

    /// The named references of `namesSource`, parsed on first use.
    static let names = NameTable(namesSource)

    /// The named references, by the FNV-1a hash of the name's bytes (its `;` included) in a
    /// ``HashedNameTable``, each hit verified against the name's bytes.
    struct NameTable: Sendable {
        /// Where a name and its value are in `nameBytes` and `valueBytes`.
        struct Entry: Sendable {
            var name: Range<Int>
            var value: Range<Int>
        }

        /// Every entry, in the order of `namesSource`.
        let entries: [Entry]
        /// The longest name (its `;` included), the longest legacy name, and the shortest name
        /// of all (a legacy one: `gt`, `lt`).
        let longestName: Int
        let longestLegacyName: Int
        let shortestName: Int
        private let nameBytes: [UInt8]
        private let valueBytes: [UInt8]
        /// The index in `entries` of each name, by its hash.
        private let byHash: HashedNameTable<Int>

        init(_ source: StaticString) {
            var entries: [Entry] = []
            var names: [UInt8] = []
            var values: [UInt8] = []
            var byHash = HashedNameTable<Int>(empty: -1, capacity: 4096)
            source.withUTF8Buffer { text in
                var i = 0
                while i < text.count {
                    while i < text.count && (text[i] == 0x20 || text[i] == 0x0A) { i += 1 }  // indentation, newlines
                    guard i < text.count else { break }
                    let nameStart = names.count
                    while i < text.count && text[i] != 0x20 {
                        names.append(text[i])
                        i += 1
                    }
                    i += 1
                    let valueStart = values.count
                    while i + 1 < text.count && text[i] != 0x0A {
                        values.append(Self.nibble(text[i]) << 4 | Self.nibble(text[i + 1]))
                        i += 2
                    }
                    let hash = FNV1a.hash(names[nameStart...])
                    precondition(byHash[hash] < 0, "two names of the table share a hash")
                    byHash[hash] = entries.count
                    entries.append(Entry(name: nameStart..<names.count, value: valueStart..<values.count))
                }
            }
            // Closures, not key paths: `map(\.name.count)` went through the runtime's key-path
            // calls, 2,000 instructions an entry, 9 M of a parse's start.
            var longest = 0, longestLegacy = 0, shortest = Int.max
            for entry in entries {
                longest = max(longest, entry.name.count)
                shortest = min(shortest, entry.name.count)
                if names[entry.name.upperBound - 1] != 0x3B { longestLegacy = max(longestLegacy, entry.name.count) }
            }
            self.entries = entries
            nameBytes = names
            valueBytes = values
            self.byHash = byHash
            longestName = longest
            shortestName = entries.isEmpty ? 0 : shortest
            longestLegacyName = longestLegacy
        }

        private static func nibble(_ hex: UInt8) -> UInt8 { hex <= 0x39 ? hex &- 0x30 : (hex | 0x20) &- 0x61 &+ 10 }

        /// The value of the name `bytes[start..<start + length]`, whose hash is `hash`, or nil
        /// when it is not in the table. The caller checks that the name is inside `bytes`.
        @inline(__always)
        func value(of hash: UInt64, _ bytes: UnsafeBufferPointer<UInt8>, _ start: Int, _ length: Int) -> ArraySlice<UInt8>? {
            let index = byHash[hash]
            guard index >= 0 else { return nil }
            let entry = entries[index]
            guard entry.name.count == length,
                nameBytes[entry.name].elementsEqual(UnsafeBufferPointer(rebasing: bytes[start..<(start + length)]))
            else { return nil }
            return valueBytes[entry.value]
        }

        func name(_ entry: Entry) -> ArraySlice<UInt8> { nameBytes[entry.name] }

        func value(_ entry: Entry) -> ArraySlice<UInt8> { valueBytes[entry.value] }
    }
}
