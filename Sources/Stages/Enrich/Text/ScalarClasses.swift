import Foundation

/// The character classes the tokenizer asks about, looked up in a table for the scalars below
/// U+3000 (Latin, Vietnamese, Greek, Cyrillic, punctuation: nearly every scalar of a news text
/// outside CJK) and computed from Unicode properties above it.
///
/// Unicode property look-ups cost tens of nanoseconds each; a table built once at start-up
/// (12,288 entries) makes tokenizing a 4 KB article several times faster.
struct ScalarClasses: OptionSet, Sendable {
    let rawValue: UInt8

    /// A letter, combining mark or digit.
    static let word = ScalarClasses(rawValue: 1)
    /// An upper-case or title-case letter.
    static let upper = ScalarClasses(rawValue: 2)
    /// A lower-case letter.
    static let lower = ScalarClasses(rawValue: 4)
    /// White space.
    static let space = ScalarClasses(rawValue: 8)
    /// A decimal digit.
    static let digit = ScalarClasses(rawValue: 16)
    /// NFC might change it or the scalar before it (a combining mark, a singleton).
    static let notNFCStable = ScalarClasses(rawValue: 32)

    /// The classes of `scalar`.
    @inline(__always)
    static func of(_ scalar: Unicode.Scalar) -> ScalarClasses {
        let v = scalar.value
        if v < 0x3000 { return ScalarClasses(rawValue: table[Int(v)]) }
        return compute(scalar)
    }

    private static let table: [UInt8] = (0..<0x3000).map { v in
        guard let scalar = Unicode.Scalar(UInt32(v)) else { return 0 }
        return compute(scalar).rawValue
    }

    /// Where the scalars that NFC maps to another scalar live below U+3000.
    private static let singletonRanges: [ClosedRange<UInt32>] = [
        0x0300...0x03FF, 0x1F00...0x1FFF, 0x2000...0x21FF, 0x2300...0x23FF,
    ]

    private static func compute(_ scalar: Unicode.Scalar) -> ScalarClasses {
        let v = scalar.value
        if v >= 0x4E00 && v <= 0x9FFF { return .word }  // the common CJK ideographs: fast
        let p = scalar.properties
        var classes: ScalarClasses = []
        if v != 0xA0 && v != 0xAD {
            switch p.generalCategory {
            case .uppercaseLetter, .titlecaseLetter: classes.formUnion([.word, .upper])
            case .lowercaseLetter: classes.formUnion([.word, .lower])
            case .decimalNumber: classes.formUnion([.word, .digit])
            case .nonspacingMark, .spacingMark, .enclosingMark, .letterNumber, .otherNumber, .otherLetter,
                .modifierLetter:
                classes.insert(.word)
            default:
                if p.isAlphabetic { classes.insert(.word) }
            }
        }
        if p.isWhitespace { classes.insert(.space) }
        // Conservative: combining marks, scripts whose vowel signs compose (Indic, Myanmar,
        // Balinese, Hangul), CJK compatibility ideographs, Hebrew presentation forms, and the
        // singletons NFC replaces (Ohm sign, Greek tonos forms…).
        if p.canonicalCombiningClass.rawValue != 0 || (0x0900...0x0DFF).contains(v) || (0x1000...0x109F).contains(v)
            || (0x1100...0x11FF).contains(v) || (0x1B00...0x1B7F).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v) || (0xFB1D...0xFB4E).contains(v)
            || (Self.singletonRanges.contains { $0.contains(v) }
                && String(scalar).precomposedStringWithCanonicalMapping.unicodeScalars.first != scalar)
        {
            classes.insert(.notNFCStable)
        }
        return classes
    }
}
