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
    /// Bumped whenever ``fold(_:)`` changes what it returns: the store then rebuilds its index,
    /// since a contentless FTS5 table can only forget text that folds exactly as it did.
    public static let version = 1

    /// A word of a text: its range in the original string and its folded form.
    public struct Token: Sendable, Hashable {
        public var range: Range<String.Index>
        public var folded: String
    }

    /// `text` in lower case without diacritics, with `đ` → `d`.
    public static func fold(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.decomposedStringWithCanonicalMapping.unicodeScalars {
            switch scalar.value {
            case 0x0300...0x036F:
                continue
            case 0x0110, 0x0111, 0x0189, 0x0256:  // Đ đ Ɖ ɖ
                out.append("d")
            default:
                if scalar.isASCII {
                    out.append(Unicode.Scalar(UInt8(ascii: scalar) | (scalar.properties.isUppercase ? 0x20 : 0)))
                } else {
                    out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                }
            }
        }
        return String(out)
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
