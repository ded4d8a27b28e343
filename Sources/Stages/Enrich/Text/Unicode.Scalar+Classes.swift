extension Unicode.Scalar {
    /// Whether the scalar is part of a word: a letter, a combining mark or a digit.
    @inline(__always)
    var isWordCharacter: Bool {
        let v = value
        if v < 0x80 {
            return (v >= 0x61 && v <= 0x7A) || (v >= 0x41 && v <= 0x5A) || (v >= 0x30 && v <= 0x39)
        }
        return ScalarClasses.of(self).contains(.word)
    }

    /// Whether the scalar is written without spaces between words: Han ideographs, kana.
    /// Each such scalar becomes a token of its own.
    @inline(__always)
    var isUnspacedIdeograph: Bool {
        let v = value
        if v < 0x3040 { return false }
        return (v >= 0x4E00 && v <= 0x9FFF)   // CJK Unified Ideographs
            || (v >= 0x3400 && v <= 0x4DBF)   // Extension A
            || (v >= 0x3040 && v <= 0x30FF)   // Hiragana, Katakana
            || (v >= 0x31F0 && v <= 0x31FF)   // Katakana extensions
            || (v >= 0xF900 && v <= 0xFAFF)   // Compatibility ideographs
            || (v >= 0x20000 && v <= 0x3134F) // Extensions B…G
    }

    /// Whether the scalar is a decimal digit.
    @inline(__always)
    var isDigit: Bool {
        let v = value
        if v < 0x80 { return v >= 0x30 && v <= 0x39 }
        return ScalarClasses.of(self).contains(.digit)
    }

    /// Whether the scalar is an upper-case or title-case letter.
    @inline(__always)
    var isUppercaseLetter: Bool {
        let v = value
        if v < 0x80 { return v >= 0x41 && v <= 0x5A }
        return ScalarClasses.of(self).contains(.upper)
    }

    /// Whether the scalar is a lower-case letter.
    @inline(__always)
    var isLowercaseLetter: Bool {
        let v = value
        if v < 0x80 { return v >= 0x61 && v <= 0x7A }
        return ScalarClasses.of(self).contains(.lower)
    }

    /// Whether the scalar is white space (including no-break spaces and line breaks).
    @inline(__always)
    var isSpace: Bool {
        let v = value
        if v < 0x80 { return v == 0x20 || (v >= 0x09 && v <= 0x0D) }
        return ScalarClasses.of(self).contains(.space)
    }

    /// Whether the scalar ends a sentence: `. ! ? …` and their CJK forms.
    @inline(__always)
    var isSentenceTerminator: Bool {
        switch value {
        case 0x2E, 0x21, 0x3F, 0x2026, 0x3002, 0xFF01, 0xFF1F, 0xFF0E: true
        default: false
        }
    }

    /// Whether the scalar joins two parts of one word when it stands between word characters:
    /// hyphens and apostrophes (`NATO-Nga`, `don't`, `Nga’s`).
    @inline(__always)
    var isWordJoiner: Bool {
        switch value {
        case 0x2D, 0x2010, 0x2011, 0x27, 0x2019: true
        default: false
        }
    }

    /// Whether the scalar is a hyphen (used to split `Nga-NATO` into its parts).
    @inline(__always)
    var isHyphen: Bool {
        switch value {
        case 0x2D, 0x2010, 0x2011: true
        default: false
        }
    }

    /// Whether the scalar opens a quotation.
    @inline(__always)
    var isOpeningQuote: Bool {
        switch value {
        case 0x201C, 0x201E, 0xAB, 0x300C, 0x300E, 0x2018: true
        default: false
        }
    }

    /// Whether the scalar closes a quotation or a bracket (it stays with the sentence it ends).
    @inline(__always)
    var isClosingPunctuation: Bool {
        switch value {
        case 0x201D, 0xBB, 0x300D, 0x300F, 0x2019, 0x22, 0x27, 0x29, 0x5D, 0xFF09, 0x3011: true
        default: false
        }
    }

    /// Whether the scalar is a dash used as punctuation (`" - Người phát ngôn…"`).
    @inline(__always)
    var isDash: Bool {
        switch value {
        case 0x2D, 0x2013, 0x2014, 0x2012, 0x2015: true
        default: false
        }
    }
}
