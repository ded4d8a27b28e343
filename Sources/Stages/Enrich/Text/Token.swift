/// One token of a text: a word, a number, one ideograph, or one punctuation scalar.
///
/// Offsets count Unicode scalars (code points) from the start of the text, as Python's `str`
/// and `jq` index strings.
struct Token: Sendable {
    enum Kind: UInt8, Sendable {
        /// Letters (with marks, digits, and inner hyphens or apostrophes): `Matxcơva`, `NATO-Nga`.
        case word
        /// Digits with inner separators: `2014`, `1.100`, `28,22`.
        case number
        /// One Han ideograph or kana, for scripts written without spaces.
        case ideograph
        /// One scalar that is neither space nor part of a word.
        case punctuation
    }

    var kind: Kind
    /// Offset of the first scalar.
    var start: Int
    /// Offset just past the last scalar.
    var end: Int
    /// The token in lower case, for comparisons and stopword look-ups. (The token as written is
    /// `TokenizedText.text(of:)`: most tokens never need it.)
    var lower: String
    /// ``WordHash`` of ``lower``: the key of every set and index look-up.
    var key: UInt64
    /// The punctuation scalar, for punctuation tokens.
    var scalar: Unicode.Scalar?
    /// The first letter is upper case (`Nga`, `NATO`, `Oana`).
    var isCapitalized: Bool = false
    /// Two or more letters, all upper case (`NATO`, `EU`, `COVID-19`).
    var isAcronym: Bool = false
    /// The token starts a sentence or a quotation, so its capital letter says nothing about it.
    var isInitial: Bool = false
    /// A line break separates it from the previous token.
    var breakBefore: Bool = false

    /// Whether it counts as a word (words, numbers and ideographs).
    var isCountable: Bool { kind != .punctuation }

    init(kind: Kind, start: Int, end: Int, lower: String, key: UInt64? = nil, scalar: Unicode.Scalar? = nil) {
        self.kind = kind
        self.start = start
        self.end = end
        self.lower = lower
        self.key = key ?? WordHash.of(lower)
        self.scalar = scalar
    }
}

extension Token {
    /// A sentence-ending punctuation token.
    var isTerminatorToken: Bool {
        kind == .punctuation && (scalar?.isSentenceTerminator ?? false)
    }
}
