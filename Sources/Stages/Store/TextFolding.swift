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
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        let table = foldTable
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                out.append(v >= 0x41 && v <= 0x5A ? UInt8(v | 0x20) : UInt8(v))
            } else if v < 0x2000 {
                out.append(contentsOf: table[Int(v)])
            } else if (0x3000...0xD7FF).contains(v) {
                out.append(contentsOf: String(scalar).utf8)
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The UTF-8 folded form of every scalar below U+2000, by scalar value.
    private static let foldTable: [[UInt8]] = (0..<0x2000).map { value -> [UInt8] in
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
