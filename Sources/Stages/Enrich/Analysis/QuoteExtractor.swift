import RunnelProtocol

/// Finds quotations and who said them.
///
/// A quotation is text between paired quotation marks on one paragraph: “curly”, "straight",
/// „Polish”, «guillemets» or 「CJK」. Its speaker comes from the attribution next to it:
/// - after it: `“…” - Người phát ngôn NATO Oana Lungescu nói.`, `"…," said Jens Stoltenberg.`,
///   `"…," she said.`;
/// - before it: `Lungescu nói: “…”`, `Theo bà Lungescu, “…”`, `According to X, "…"`.
///
/// The attribution phrase is resolved in this order: a person named in it; a title in it
/// (`Người phát ngôn NATO`) that named a person earlier; a pronoun (`he`, `bà`), meaning the last
/// person mentioned before the quotation; another entity in it; the phrase itself when it is a
/// short capitalized name. Speakers are given as the merged entity's name, so `bà Lungescu`
/// becomes `Oana Lungescu`. Quotations of fewer than 3 words, or of fewer than 8 without a
/// speaker (scare quotes, titles), are left out.
struct QuoteExtractor: Sendable {
    let text: TokenizedText
    let entities: EntityExtractor.Result

    static let pronouns = PhraseIndex(Lexicon.pronouns.map { $0.split(separator: " ").map(String.init) })
    static let accordingTo = PhraseIndex(Lexicon.accordingTo)

    private let tokens: [Token]

    init(text: TokenizedText, entities: EntityExtractor.Result) {
        self.text = text
        self.entities = entities
        self.tokens = text.tokens
    }

    /// The quotations in text order.
    func extract(limit: Int) -> [ArticleEnriched.Quote] {
        var quotes: [ArticleEnriched.Quote] = []
        let scalars = text.scalars
        var i = 0
        while i < scalars.count, quotes.count < limit {
            let s = scalars[i]
            guard let closers = closers(for: s, at: i),
                let close = findClose(from: i + 1, closers: closers)
            else {
                i += 1
                continue
            }
            if let quote = quotation(open: i, close: close) { quotes.append(quote) }
            i = close + 1
        }
        return quotes
    }

    /// The marks that may close a quotation opened by `s`, or nil if `s` opens none.
    private func closers(for s: Unicode.Scalar, at i: Int) -> Set<UInt32>? {
        switch s.value {
        case 0x201C: [0x201D, 0x201C]
        case 0x201E: [0x201D, 0x201C]
        case 0xAB: [0xBB]
        case 0x300C: [0x300D]
        case 0x300E: [0x300F]
        case 0x22: text.isOpeningStraightQuote(at: i) ? [0x22] : nil
        default: nil
        }
    }

    private func findClose(from start: Int, closers: Set<UInt32>) -> Int? {
        let scalars = text.scalars
        var k = start
        let end = min(scalars.count, start + 3000)
        while k < end {
            let v = scalars[k].value
            if closers.contains(v) { return k }
            if v == 0x0A || v == 0x2029 { return nil }
            k += 1
        }
        return nil
    }

    private func quotation(open: Int, close: Int) -> ArticleEnriched.Quote? {
        let first = tokenIndex(atOrAfter: open + 1)
        let last = tokenIndex(atOrAfter: close)
        let inner = tokens[first..<last]
        let words = inner.reduce(0) { $0 + ($1.isCountable ? 1 : 0) }
        let hasIdeographs = inner.contains { $0.kind == .ideograph }
        guard words >= 3 else { return nil }
        var body = text.string((open + 1)..<close).trimmingSpaces()
        while let lastScalar = body.unicodeScalars.last, lastScalar == "," || lastScalar == "，" {
            body.unicodeScalars.removeLast()
        }
        let speaker = speakerAfter(close: last) ?? speakerBefore(open: first - 1, quoteStart: open)
        if speaker == nil && words < (hasIdeographs ? 15 : 8) { return nil }
        return ArticleEnriched.Quote(text: body, speaker: speaker)
    }

    // MARK: Attribution

    /// `” - Người phát ngôn NATO Oana Lungescu nói.` / `," said X.` / `," X said.`
    private func speakerAfter(close: Int) -> String? {
        var a = close + 1
        while a < tokens.count, tokens[a].kind == .punctuation, !tokens[a].breakBefore,
            let s = tokens[a].scalar, s == "," || s.isDash || s == "，"
        {
            a += 1
        }
        guard a < tokens.count, !tokens[a].breakBefore, tokens[a].kind != .punctuation else { return nil }
        var b = a
        while b < tokens.count, b - a < 25, !(b > a && tokens[b].breakBefore), !endsClause(tokens[b]) { b += 1 }
        if let n = EntityExtractor.speechVerbs.match(in: tokens, at: a) {
            // English inversion: `said President Joe Biden`.
            return resolve((a + n)..<b, quoteStart: tokens[close].start)
        }
        for v in a..<b where tokens[v].kind == .word {
            if EntityExtractor.speechVerbs.match(in: tokens, at: v) != nil {
                return v > a && v - a <= 12 ? resolve(a..<v, quoteStart: tokens[close].start) : nil
            }
        }
        return nil
    }

    /// `Lungescu nói: “…”` / `Theo bà Lungescu, “…”` / `He said: "…"`.
    private func speakerBefore(open: Int, quoteStart: Int) -> String? {
        guard open > 0, open <= tokens.count else { return nil }
        var d = open - 1
        // The mark before the quotation must be a colon or a comma.
        guard d >= 0, tokens[d].kind == .punctuation, let mark = tokens[d].scalar,
            mark == ":" || mark == "," || mark == "：" || mark == "，"
        else { return nil }
        var c = d
        while c > 0, d - c < 25, !tokens[c - 1].isTerminatorToken, !tokens[c].breakBefore { c -= 1 }
        for k in c..<d where tokens[k].kind == .word {
            if let n = Self.accordingTo.match(in: tokens, at: k) {
                return resolve((k + n)..<d, quoteStart: quoteStart)
            }
        }
        for v in stride(from: d - 1, through: c, by: -1) where tokens[v].kind == .word {
            if EntityExtractor.speechVerbs.match(in: tokens, at: v) != nil {
                d = v
                return v > c ? resolve(c..<d, quoteStart: quoteStart) : nil
            }
        }
        return nil
    }

    private func endsClause(_ token: Token) -> Bool {
        guard token.kind == .punctuation, let s = token.scalar else { return false }
        return s.isSentenceTerminator || s.isOpeningQuote || s == "\"" || s == ";" || s == "(" || s == "；"
    }

    /// Turns an attribution phrase into a speaker's name.
    private func resolve(_ phrase: Range<Int>, quoteStart: Int) -> String? {
        guard !phrase.isEmpty else { return nil }
        let mentions = entities.mentions.filter { phrase.overlaps($0.tokens) }
        if let person = mentions.first(where: { entities.kinds[$0.key] == .person }) {
            return entities.names[person.key] ?? person.text
        }
        if let reference = entities.titles.last(where: { phrase.overlaps($0.tokens) }) {
            if let person = reference.person { return entities.names[person] }
            let earlier = entities.titles.filter { $0.tokens.lowerBound < reference.tokens.lowerBound && $0.person != nil }
            if let match = earlier.last(where: { $0.key == reference.key }) ?? earlier.last(where: { $0.title == reference.title }),
                let person = match.person
            {
                return entities.names[person]
            }
        }
        let words = tokens[phrase].filter { $0.kind == .word }
        if let k = phrase.first(where: { tokens[$0].kind == .word }),
            let n = Self.pronouns.match(in: tokens, at: k), n == words.count
        {
            if let person = entities.mentions.last(where: { $0.start < quoteStart && entities.kinds[$0.key] == .person }) {
                return entities.names[person.key]
            }
            return nil
        }
        if let mention = mentions.first { return entities.names[mention.key] ?? mention.text }
        if (1...6).contains(words.count), words.first?.isCapitalized == true {
            return text.string(words.first!.start..<words.last!.end)
        }
        return nil
    }

    /// The index of the first token that starts at or after scalar `offset`.
    private func tokenIndex(atOrAfter offset: Int) -> Int {
        var low = 0
        var high = tokens.count
        while low < high {
            let mid = (low + high) / 2
            if tokens[mid].start < offset { low = mid + 1 } else { high = mid }
        }
        return low
    }
}
