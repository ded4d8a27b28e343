import RunnelProtocol

/// A text cut into tokens and sentences, the input of every analysis in this module.
///
/// Foundation on Linux has no word enumeration, and ICU's word break splits Vietnamese into
/// syllables anyway, so this is a small Unicode-aware tokenizer of its own: runs of letters,
/// marks and digits make words (inner hyphens and apostrophes included, so `well-known` and
/// `don't` are one token, but a hyphen between two capitalized parts separates names:
/// `Việt Nam-Trung Quốc`, `NATO-Nga` are two names and a hyphen); each Han ideograph or kana is
/// a token of its own; every other non-space scalar is a punctuation token. Vietnamese words are therefore syllables
/// (`phái`, `bộ`), which is also how Vietnamese editors count words.
///
/// ```swift
/// let text = TokenizedText("Nga thông báo. NATO phản ứng.")
/// text.sentences.count   // 2
/// ```
struct TokenizedText: Sendable {
    /// The text's scalars; token offsets index into this array.
    let scalars: [Unicode.Scalar]
    /// Every token, in order.
    private(set) var tokens: [Token] = []
    /// Sentences as ranges of indices into ``tokens``; each holds at least one word.
    private(set) var sentences: [Range<Int>] = []

    /// Tokenizes `text` and splits it into sentences.
    init(_ text: String) {
        scalars = Self.scalars(of: text)
        tokens.reserveCapacity(scalars.count / 4)
        tokenize()
        splitSentences()
    }

    /// The scalars of `text`, decoded from its UTF-8 in one pass into room for as many as it
    /// has bytes. (`Array(text.unicodeScalars)` decoded the text twice, once to count: 300,000
    /// instructions an article, issue 14.)
    static func scalars(of text: String) -> [Unicode.Scalar] {
        var text = text
        return text.withUTF8 { utf8 in
            [Unicode.Scalar](unsafeUninitializedCapacity: utf8.count) { out, initialized in
                var i = 0
                var o = 0
                while i < utf8.count {
                    let (value, length) = ValidUTF8.scalar(utf8, at: i)
                    out.initializeElement(at: o, to: Unicode.Scalar(value) ?? "\u{FFFD}")
                    i += length
                    o += 1
                }
                initialized = o
            }
        }
    }

    /// The text of scalars `range`.
    func string(_ range: Range<Int>) -> String {
        let range = range.clamped(to: 0..<scalars.count)
        var count = 0
        for i in range { count += UTF8.width(scalars[i]) }
        return String(unsafeUninitializedCapacity: count) { buffer in
            var k = 0
            for i in range {
                UTF8.encode(scalars[i]) { byte in
                    buffer[k] = byte
                    k += 1
                }
            }
            return k
        }
    }

    /// The token as written.
    func text(of token: Token) -> String {
        string(token.start..<token.end)
    }

    /// Scalars `range` in lower case, and the ``WordHash`` of that, in one pass.
    private func lowercased(_ range: Range<Int>, hasUpper: Bool) -> (String, UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: range.count * 12) { buffer in
            var k = 0
            for i in range {
                let s = scalars[i]
                let v = s.value
                if v < 0x80 {
                    buffer[k] = UInt8(truncatingIfNeeded: v >= 0x41 && v <= 0x5A ? v + 32 : v)
                    k += 1
                } else if hasUpper && s.isUppercaseLetter {
                    for l in s.properties.lowercaseMapping.unicodeScalars {
                        UTF8.encode(l) { byte in
                            buffer[k] = byte
                            k += 1
                        }
                    }
                } else {
                    UTF8.encode(s) { byte in
                        buffer[k] = byte
                        k += 1
                    }
                }
            }
            let bytes = UnsafeBufferPointer(rebasing: buffer[0..<k])
            return (String(decoding: bytes, as: UTF8.self), WordHash.of(bytes))
        }
    }

    /// The text of a sentence, from its first to its last token.
    func string(sentence: Range<Int>) -> String {
        guard let first = sentence.first, let last = sentence.last else { return "" }
        return string(tokens[first].start..<tokens[last].end)
    }

    // MARK: Tokens

    private mutating func tokenize() {
        let n = scalars.count
        var i = 0
        var startPending = true
        var breakPending = false
        while i < n {
            let s = scalars[i]
            if s.isSpace {
                if s.value == 0x0A || s.value == 0x0D || s.value == 0x2028 || s.value == 0x2029 {
                    breakPending = true
                    startPending = true
                }
                i += 1
                continue
            }
            if s.isUnspacedIdeograph {
                let text = String(Character(s))
                var token = Token(kind: .ideograph, start: i, end: i + 1, lower: text)
                token.isInitial = startPending
                token.breakBefore = breakPending
                tokens.append(token)
                startPending = false
                breakPending = false
                i += 1
                continue
            }
            if s.isWordCharacter {
                let token = scanWord(at: i, initial: startPending, breakBefore: breakPending)
                tokens.append(token)
                startPending = false
                breakPending = false
                i = token.end
                if let possessive = possessiveSuffix(at: i) {
                    tokens.append(possessive)
                    i = possessive.end
                }
                continue
            }
            // Punctuation: one scalar per token.
            let text = String(Character(s))
            var token = Token(kind: .punctuation, start: i, end: i + 1, lower: text, scalar: s)
            token.breakBefore = breakPending
            tokens.append(token)
            breakPending = false
            if s.isSentenceTerminator || s.isOpeningQuote || s.value == 0x3A /* : */ {
                startPending = true
            } else if s.value == 0x22 /* " */ && isOpeningStraightQuote(at: i) {
                startPending = true
            } else if s.isDash && i > 0 && scalars[i - 1].isSpace && i + 1 < n && scalars[i + 1].isSpace {
                // "Miền đất - Con người": a word after a spaced dash starts a new part.
                startPending = true
            } else if (s == "]" || s == ")") && labelOpensLine(before: tokens.count - 1) {
                // "[Video] Lịch sử…": a label at the start of a line, then the line proper.
                startPending = true
            }
            i += 1
        }
    }

    /// Whether the closing bracket token `close` ends a bracket group that opened its line.
    private func labelOpensLine(before close: Int) -> Bool {
        var k = close - 1
        while k >= 0, close - k <= 6 {
            if let s = tokens[k].scalar, s == "[" || s == "(" {
                return k == 0 || tokens[k].breakBefore
            }
            if tokens[k].breakBefore { return false }
            k -= 1
        }
        return false
    }

    /// Whether the straight quote at `i` opens a quotation (it follows a space, the start, or
    /// opening punctuation).
    func isOpeningStraightQuote(at i: Int) -> Bool {
        if i == 0 { return true }
        let before = scalars[i - 1]
        return before.isSpace || before.value == 0x28 || before.value == 0x5B || before.isDash
            || before.value == 0x3A
    }

    /// The English possessive `’s` ending at a word boundary, as one punctuation token (so
    /// `Russia’s` is the word `Russia`, and still one word).
    private func possessiveSuffix(at i: Int) -> Token? {
        guard i + 1 < scalars.count, scalars[i].value == 0x27 || scalars[i].value == 0x2019,
            scalars[i + 1] == "s", i + 2 == scalars.count || !scalars[i + 2].isWordCharacter
        else { return nil }
        return Token(kind: .punctuation, start: i, end: i + 2, lower: "’s", scalar: scalars[i])
    }

    private func scanWord(at start: Int, initial: Bool, breakBefore: Bool) -> Token {
        let n = scalars.count
        var j = start
        var letters = 0
        var upper = 0
        var lower = 0
        var digitsOnly = true
        while j < n {
            let s = scalars[j]
            if s.isWordCharacter && !s.isUnspacedIdeograph {
                if s.isUppercaseLetter {
                    upper += 1
                    letters += 1
                } else if s.isLowercaseLetter {
                    lower += 1
                    letters += 1
                }
                if !s.isDigit { digitsOnly = false }
                j += 1
                continue
            }
            guard j + 1 < n else { break }
            let next = scalars[j + 1]
            if s.isWordJoiner && next.isWordCharacter && !next.isUnspacedIdeograph
                && !(!s.isHyphen && next == "s" && (j + 2 == n || !scalars[j + 2].isWordCharacter))
                && !(s.isHyphen && next.isUppercaseLetter && scalars[start].isUppercaseLetter)
            {
                j += 1
                continue
            }
            if digitsOnly && (s.value == 0x2E || s.value == 0x2C) && next.isDigit {
                j += 1
                continue
            }
            break
        }
        let (lowered, key) = lowercased(start..<j, hasUpper: upper > 0)
        var token = Token(kind: digitsOnly ? .number : .word, start: start, end: j, lower: lowered, key: key)
        token.isCapitalized = scalars[start].isUppercaseLetter
        token.isAcronym = letters >= 2 && lower == 0 && upper >= 2
        token.isInitial = initial
        token.breakBefore = breakBefore
        return token
    }

    // MARK: Sentences

    /// Abbreviations after which a period does not end a sentence (lower case, without the dot).
    static let abbreviations = WordSet([
        "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "inc", "ltd", "co", "corp",
        "gen", "col", "lt", "sgt", "capt", "sen", "rep", "gov", "nr", "fig", "approx", "dept",
        "e.g", "i.e", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
        "dec", "mt", "ft", "u.s", "ths", "ts", "pgs", "gs", "tp", "tt", "hr", "hrsg",
        "z.b", "bzw", "dz", "np", "tzw", "ul", "al", "г", "гг", "см", "т.е", "др",
    ])

    private mutating func splitSentences() {
        var start = 0
        var quoteDepth = 0
        var straightOpen = false
        var t = 0
        let count = tokens.count
        while t < count {
            let token = tokens[t]
            if token.breakBefore && t > start {
                close(start..<t)
                start = t
                quoteDepth = 0
                straightOpen = false
            }
            guard token.kind == .punctuation, let s = token.scalar else {
                t += 1
                continue
            }
            switch s.value {
            case 0x201C, 0xAB, 0x300C, 0x300E, 0x201E: quoteDepth += 1
            case 0x201D, 0xBB, 0x300D, 0x300F: quoteDepth = max(0, quoteDepth - 1)
            case 0x22: straightOpen = isOpeningStraightQuote(at: token.start)
            default: break
            }
            if s.isSentenceTerminator && quoteDepth == 0 && !straightOpen && endsSentence(at: t) {
                var end = t + 1
                while end < count, !tokens[end].breakBefore, tokens[end].kind == .punctuation,
                    let next = tokens[end].scalar,
                    next.isSentenceTerminator || next.isClosingPunctuation
                {
                    if next.value == 0x22 { straightOpen = false }
                    end += 1
                }
                close(start..<end)
                start = end
                t = end
                continue
            }
            t += 1
        }
        if start < count { close(start..<count) }
    }

    /// Whether the terminator token at `t` ends a sentence (not `Mr.`, `1.`, `nato.int`).
    private func endsSentence(at t: Int) -> Bool {
        let token = tokens[t]
        let s = scalars[token.start]
        if s.value != 0x2E { return true }  // ! ? … and CJK terminators always end one
        // A period must be followed by a space, a closing mark or the end of the text.
        if token.end < scalars.count {
            let after = scalars[token.end]
            if !(after.isSpace || after.isClosingPunctuation || after.isSentenceTerminator) { return false }
        }
        if t > 0 {
            let previous = tokens[t - 1]
            if previous.end == token.start, previous.kind == .word {
                if Self.abbreviations.contains(previous) { return false }
                // An initial: "J. Smith".
                if previous.end - previous.start == 1 && previous.isCapitalized { return false }
            }
        }
        // The next word starts in lower case: not a new sentence ("ca. 5", "vs. them").
        if let next = tokens[(t + 1)...].first(where: { $0.kind != .punctuation }),
            scalars[next.start].isLowercaseLetter, !next.breakBefore
        {
            return false
        }
        return true
    }

    private mutating func close(_ range: Range<Int>) {
        if tokens[range].contains(where: { $0.isCountable }) { sentences.append(range) }
    }
}
