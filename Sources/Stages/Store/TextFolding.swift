import Foundation

/// Folds text for diacritic- and case-insensitive search: `"Phái bộ Đà Nẵng"` → `"phai bo da nang"`.
///
/// The store indexes folded text and folds every query the same way, so a query typed without
/// marks finds text written with them. Folding lower-cases, decomposes (NFD), drops the combining
/// marks of the Latin, Greek and Cyrillic blocks (U+0300–U+036F: Vietnamese tones, circumflex,
/// breve and horn, French accents, …) and maps the letters that carry a stroke rather than a mark
/// (`đ Đ` → `d`, which Unicode does not decompose). Marks of other scripts (Devanagari, Thai) are
/// kept: they are part of those words, not decorations.
///
/// The FTS5 table's own tokenizer (`unicode61 remove_diacritics 2`) does the same for the cases
/// it knows; folding here too makes the result independent of SQLite's version and lets the
/// snippet builder match tokens of the original text.
///
/// ```swift
/// TextFolding.fold("Matxcơva")   // "matxcova"
/// TextFolding.terms("Đà Nẵng!")  // ["da", "nang"]
/// ```
public enum TextFolding {
    /// A word of a text: its range in the original string and its folded form.
    public struct Token: Sendable, Hashable {
        /// Where the word is in the original text.
        public var range: Range<String.Index>
        /// The word folded (``fold(_:)``).
        public var folded: String
    }

    /// Bumped whenever ``fold(_:)`` changes what it returns: the store then rebuilds its index,
    /// since a contentless FTS5 table can only forget text that folds exactly as it did.
    public static let version = 2

    /// `text` in lower case without diacritics, with `đ` → `d`.
    ///
    /// Scalars below U+2000 (Latin, Greek, Cyrillic, Vietnamese's Latin Extended Additional)
    /// fold through a table built once from their canonical decompositions, so text in NFC
    /// and NFD fold alike; CJK and Hangul pass unchanged; other scalars are lower-cased.
    public static func fold(_ text: String) -> String {
        var text = text
        return text.withUTF8 { utf8 -> String in
            // Three times the input is enough for every scalar Unicode has (U+0CCB folds to its
            // three-scalar decomposition); a longer result is made again with room for any.
            for factor in [3, 16] {
                var overflowed = false
                let folded = String(unsafeUninitializedCapacity: utf8.count * factor) { out in
                    foldTable.bytes.withUnsafeBufferPointer { table in
                        foldTable.starts.withUnsafeBufferPointer { starts in
                            fold(utf8, into: out, table: table, starts: starts, overflowed: &overflowed)
                        }
                    }
                }
                if !overflowed { return folded }
            }
            preconditionFailure("a scalar folded to more than 16 times its UTF-8 length")
        }
    }

    /// Folds valid UTF-8 into `out`; returns the bytes written, or sets `overflowed` when `out`
    /// is too small.
    private static func fold(
        _ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
        table: UnsafeBufferPointer<UInt8>, starts: UnsafeBufferPointer<Int>, overflowed: inout Bool
    ) -> Int {
        let count = utf8.count
        var i = 0
        var o = 0
        let capacity = out.count
        @inline(__always) func copy(_ bytes: UnsafeBufferPointer<UInt8>) {
            guard o + bytes.count <= capacity else {
                overflowed = true
                return
            }
            for b in bytes {
                out[o] = b
                o += 1
            }
        }
        while i < count, !overflowed {
            let lead = utf8[i]
            if lead < 0x80 {
                guard o < capacity else {
                    overflowed = true
                    return 0
                }
                out[o] = lead &- 0x41 < 26 ? lead | 0x20 : lead
                o += 1
                i += 1
                continue
            }
            let (v, length) = scalar(utf8, at: i)
            if v < 0x2000 {
                copy(UnsafeBufferPointer(rebasing: table[starts[Int(v)]..<starts[Int(v) + 1]]))
            } else if (0x3000...0xD7FF).contains(v) {
                copy(UnsafeBufferPointer(rebasing: utf8[i..<(i + length)]))
            } else {
                var mapping = Unicode.Scalar(v)!.properties.lowercaseMapping
                mapping.withUTF8 { copy($0) }
            }
            i += length
        }
        return overflowed ? 0 : o
    }

    /// The scalar of valid UTF-8 `utf8` that starts at `i` with a byte of 0x80 or more, and its
    /// length in bytes (the lead byte says how long it is).
    @inline(__always)
    private static func scalar(_ utf8: UnsafeBufferPointer<UInt8>, at i: Int) -> (UInt32, Int) {
        let lead = utf8[i]
        if lead < 0xE0 {
            return (UInt32(lead & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F), 2)
        } else if lead < 0xF0 {
            return (UInt32(lead & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F), 3)
        }
        return (
            UInt32(lead & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6
                | UInt32(utf8[i + 3] & 0x3F), 4
        )
    }

    /// The UTF-8 folded form of every scalar below U+2000: scalar `v` folds to
    /// `bytes[starts[v]..<starts[v + 1]]`. One flat array, so folding a text allocates nothing
    /// per character.
    private static let foldTable: (bytes: [UInt8], starts: [Int]) = {
        var bytes: [UInt8] = []
        var starts: [Int] = []
        for value in UInt32(0)..<0x2000 {
            starts.append(bytes.count)
            bytes += folded(value)
        }
        starts.append(bytes.count)
        return (bytes, starts)
    }()

    /// The folded form of one scalar below U+2000, from its canonical decomposition.
    private static func folded(_ value: UInt32) -> [UInt8] {
        guard let scalar = Unicode.Scalar(value) else { return [] }
        if (0x0300...0x036F).contains(value) { return [] }
        if [0x0110, 0x0111, 0x0189, 0x0256].contains(value) { return Array("d".utf8) }  // Đ đ Ɖ ɖ
        var folded = ""
        for part in String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
        where !(0x0300...0x036F).contains(part.value) {
            folded += part.properties.lowercaseMapping
        }
        return Array(folded.utf8)
    }

    /// Calls `body` with each word of valid UTF-8 `utf8` folded, in order: the words of
    /// ``tokens(_:)``, each folded as ``fold(_:)`` folds it, without a String for either (the
    /// PostgreSQL store's search vector: issue 14). The buffer is valid only during the call.
    static func forEachFoldedWord(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var inWord = false
        foldTable.bytes.withUnsafeBufferPointer { table in
            foldTable.starts.withUnsafeBufferPointer { starts in
                wordScalars.withUnsafeBufferPointer { isWord in
                    let count = utf8.count
                    var i = 0
                    while i < count {
                        let lead = utf8[i]
                        let (v, length) = lead < 0x80 ? (UInt32(lead), 1) : scalar(utf8, at: i)
                        let wordScalar = v < 0x2000 ? isWord[Int(v)] : Unicode.Scalar(v).map(isWordScalar) ?? false
                        if wordScalar {
                            inWord = true
                            if v < 0x80 {
                                word.append(lead &- 0x41 < 26 ? lead | 0x20 : lead)
                            } else if v < 0x2000 {
                                word.append(contentsOf: UnsafeBufferPointer(rebasing: table[starts[Int(v)]..<starts[Int(v) + 1]]))
                            } else if (0x3000...0xD7FF).contains(v) {
                                word.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[i..<(i + length)]))
                            } else if let scalar = Unicode.Scalar(v) {
                                word.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
                            }
                        } else if inWord {
                            word.withUnsafeBufferPointer(body)
                            word.removeAll(keepingCapacity: true)
                            inWord = false
                        }
                        i += length
                    }
                }
            }
        }
        if inWord { word.withUnsafeBufferPointer(body) }
    }

    /// ``isWordScalar(_:)`` of every scalar below U+2000, looked up once.
    private static let wordScalars: [Bool] = (UInt32(0)..<0x2000).map { Unicode.Scalar($0).map(isWordScalar) ?? false }

    /// The folded words of `text`, in order: runs of letters, digits and marks.
    public static func terms(_ text: String) -> [String] {
        tokens(text).map(\.folded)
    }

    /// The words of `text` with their ranges in `text` and their folded forms.
    public static func tokens(_ text: String) -> [Token] {
        var result: [Token] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            guard isWordScalar(scalars[index]) else {
                index = scalars.index(after: index)
                continue
            }
            let start = index
            while index < scalars.endIndex, isWordScalar(scalars[index]) {
                index = scalars.index(after: index)
            }
            let range = start..<index
            result.append(Token(range: range, folded: fold(String(text.unicodeScalars[range]))))
        }
        return result
    }

    /// Whether a scalar belongs to a word, as FTS5's `unicode61` tokenizer sees it (letters,
    /// numbers, private-use characters), plus combining marks, which stay with their letter.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .privateUse,
            .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }
}
