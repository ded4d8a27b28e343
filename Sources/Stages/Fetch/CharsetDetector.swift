/// Finds the charset of a page: a byte order mark, then the `Content-Type` header's `charset`,
/// then a `<meta charset>` / `http-equiv` / XML declaration in the first 4 KB, then detection
/// from the bytes. A pure function of the header and the bytes.
///
/// The BOM comes first, as in the WHATWG encoding standard: a page that starts with one was
/// written in that encoding whatever the server says. Detection: bytes that are valid UTF-8 are
/// UTF-8; otherwise Vietnamese windows-1258 when its combining tone marks (0xCC, 0xEC, 0xD2,
/// 0xDE, 0xF2) follow vowels often enough, else windows-1252.
///
/// ```swift
/// let found = CharsetDetector.find(contentType: "text/html", body: bytes)
/// found.name    // "windows-1258"
/// found.source  // .detected
/// ```
public enum CharsetDetector {
    /// Where a charset was found.
    public enum Source: String, Sendable, Hashable {
        case bom, header, meta, detected
    }

    /// A charset label as found (lower-cased) and where.
    public struct Found: Sendable, Hashable {
        public var name: String
        public var source: Source
        /// Bytes to skip before decoding (the BOM).
        public var skip: Int

        public init(name: String, source: Source, skip: Int = 0) {
            self.name = name
            self.source = source
            self.skip = skip
        }
    }

    /// The charset of a page.
    public static func find(contentType: String?, body: [UInt8]) -> Found {
        if let bom = byteOrderMark(body) { return bom }
        if let contentType, let name = parameter("charset", in: contentType), !name.isEmpty {
            return Found(name: name.lowercased(), source: .header)
        }
        if let name = declaredInDocument(body.prefix(4096)) {
            return Found(name: name, source: .meta)
        }
        return Found(name: detect(body), source: .detected)
    }

    /// A UTF-8 or UTF-16 byte order mark.
    static func byteOrderMark(_ body: [UInt8]) -> Found? {
        if body.starts(with: [0xEF, 0xBB, 0xBF]) { return Found(name: "utf-8", source: .bom, skip: 3) }
        if body.starts(with: [0xFF, 0xFE]) { return Found(name: "utf-16le", source: .bom, skip: 2) }
        if body.starts(with: [0xFE, 0xFF]) { return Found(name: "utf-16be", source: .bom, skip: 2) }
        return nil
    }

    /// A parameter of a header value such as `text/html; charset="utf-8"`.
    static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1)
            guard pair.count == 2, pair[0].trimmingSpaces.lowercased() == name else { continue }
            var value = pair[1].trimmingSpaces
            if value.hasPrefix("\"") || value.hasPrefix("'") { value = value.dropFirst() }
            if value.hasSuffix("\"") || value.hasSuffix("'") { value = value.dropLast() }
            return String(value.trimmingSpaces)
        }
        return nil
    }

    /// The charset a document declares in its first bytes: `<meta charset=…>`,
    /// `<meta http-equiv="Content-Type" content="…; charset=…">` or `<?xml … encoding="…"?>`.
    static func declaredInDocument(_ head: ArraySlice<UInt8>) -> String? {
        let bytes = Array(head)
        func lowered(_ range: Range<Int>) -> Substring {
            Substring(String(decoding: bytes[range].map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self))
        }
        func end(of tag: Int, _ terminator: UInt8) -> Int {
            bytes[tag...].firstIndex(of: terminator) ?? bytes.count
        }
        if bytes.starts(with: Array("<?xml".utf8)) {
            if let value = value(after: "encoding", in: lowered(0..<end(of: 0, UInt8(ascii: ">")))) { return value }
        }
        // Each `<meta` tag, matched without regard to case.
        var index = 0
        while index + 5 <= bytes.count {
            guard let open = bytes[index...].firstIndex(of: UInt8(ascii: "<")), open + 5 <= bytes.count else { break }
            let name = bytes[(open + 1)..<(open + 5)].map { $0 | 0x20 }
            if name == Array("meta".utf8) {
                let close = end(of: open, UInt8(ascii: ">"))
                if let value = value(after: "charset", in: lowered(open..<close)), !value.isEmpty { return value }
                index = close
            } else {
                index = open + 1
            }
        }
        return nil
    }

    /// The token after `name`, `=` and an optional quote.
    private static func value(after name: String, in tag: Substring) -> String? {
        var search = tag
        while let found = search.range(of: name) {
            var index = found.upperBound
            let skip: Set<Character> = [" ", "\t", "\n", "\r"]
            while index < search.endIndex, skip.contains(search[index]) { index = search.index(after: index) }
            guard index < search.endIndex, search[index] == "=" else {
                search = search[found.upperBound...]
                continue
            }
            index = search.index(after: index)
            while index < search.endIndex, skip.contains(search[index]) || search[index] == "\"" || search[index] == "'" {
                index = search.index(after: index)
            }
            let stop: Set<Character> = ["\"", "'", " ", ";", ">", "/", "\t", "\n", "\r", "?"]
            var end = index
            while end < search.endIndex, !stop.contains(search[end]) { end = search.index(after: end) }
            return String(search[index..<end])
        }
        return nil
    }

    /// Guesses the charset of undeclared bytes: `utf-8`, `windows-1258` or `windows-1252`.
    public static func detect(_ body: [UInt8]) -> String {
        if body.withUnsafeBufferPointer(CharsetDecoder.isValidUTF8) { return "utf-8" }
        return looksVietnamese(body) ? "windows-1258" : "windows-1252"
    }

    /// Whether non-UTF-8 bytes read as windows-1258 Vietnamese: its tone marks are combining
    /// characters (0xCC grave, 0xEC acute, 0xD2 hook, 0xDE tilde, 0xF2 dot below) that follow a
    /// vowel. In windows-1252 those bytes are Ì ì Ò Þ ò, which seldom follow a vowel in the
    /// languages it serves. One in four high bytes being such a mark is plenty: Vietnamese has
    /// one on most syllables.
    static func looksVietnamese(_ body: [UInt8]) -> Bool {
        var marks = 0
        var high = 0
        var previous: UInt8 = 0
        for byte in body {
            if byte >= 0x80 {
                high += 1
                if toneMarks.contains(byte) && vowels.contains(previous) { marks += 1 }
            }
            previous = byte
        }
        return marks >= 1 && marks * 4 >= high
    }

    private static let toneMarks: Set<UInt8> = [0xCC, 0xEC, 0xD2, 0xDE, 0xF2]
    /// ASCII vowels and windows-1258's â ê ô ă ơ ư (either case).
    private static let vowels: Set<UInt8> = Set(Array("aeiouyAEIOUY".utf8)).union([
        0xE2, 0xEA, 0xF4, 0xE3, 0xF5, 0xFD, 0xC2, 0xCA, 0xD4, 0xC3, 0xD5, 0xDD,
    ])
}
