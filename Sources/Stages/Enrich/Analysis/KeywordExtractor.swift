/// Picks the phrases an article is about, multi-word where the language needs it.
///
/// Candidates are the n-grams of content words: runs of tokens inside one sentence with no
/// punctuation or stopword between them. English and other space-separated languages use 1–3
/// words; Vietnamese uses 2–4 syllables (most Vietnamese words have two), plus single syllables
/// only for names written capitalized inside sentences (`Nga`, `NATO`); Chinese and Japanese use
/// 2–4 characters. Only *closed* n-grams are kept — those no longer n-gram of the same frequency
/// contains — so `phái bộ ngoại giao` wins over `phái bộ ngoại`. Score: frequency × a weight that
/// grows with length, plus a bonus when the phrase is also in the title; a phrase must occur at
/// least twice in the text. Of phrases that contain one another or overlap where they first
/// occur, only the best is kept.
struct KeywordExtractor: Sendable {
    let text: TokenizedText
    let title: TokenizedText
    let language: String
    let stopwords: WordSet
    /// Token ranges of entity mentions: a keyword never cuts through one (`罗斯外交`,
    /// `General Jens`).
    var mentions: [Range<Int>] = []

    private var isUnspaced: Bool { language == "zh" || language == "ja" }
    private var isSyllabic: Bool { language == "vi" }

    /// Up to `limit` keywords, best first.
    func extract(limit: Int) -> [String] {
        guard limit > 0 else { return [] }
        let (minN, maxN): (Int, Int) = isUnspaced ? (2, 4) : isSyllabic ? (1, 4) : (1, 3)
        var ids = KeyMap<Int>(capacity: text.tokens.count / 2)
        /// Every n-gram: how often, and where it first occurs.
        struct Gram {
            var count: Int
            var token: Int
            var n: Int
        }
        var counts = KeyMap<Gram>(capacity: text.tokens.count * 2)
        var capitalizedInside = WordSet()
        let tokens = text.tokens
        // By index, here and below: a token copied out holds its `lower` String, retained and
        // released for each of them (issue 14).
        for index in tokens.indices where tokens[index].kind == .word {
            if tokens[index].isCapitalized && !tokens[index].isInitial { capitalizedInside.insert(tokens[index].key) }
        }

        func isContent(_ token: borrowing Token) -> Bool {
            switch token.kind {
            case .ideograph: return !stopwords.contains(hash: token.key)
            case .word: return token.end - token.start >= 2 && !stopwords.contains(hash: token.key)
            case .number, .punctuation: return false
            }
        }
        func id(_ key: UInt64) -> Int? {
            if let id = ids[key] { return id }
            guard ids.count < 0xFFFE else { return nil }
            ids.set(key, ids.count + 1)
            return ids.count
        }
        // Word ids, and how often each occurs: a gram holding a word seen once occurs once, so
        // runs break there and only grams that can repeat are counted.
        var tokenIDs = [Int](repeating: 0, count: tokens.count)
        var idCounts: [Int] = [0]
        for index in tokens.indices where isContent(tokens[index]) {
            guard let id = id(tokens[index].key) else { continue }
            tokenIDs[index] = id
            if id == idCounts.count { idCounts.append(0) }
            idCounts[id] += 1
        }

        /// Calls `body` with each n-gram key, its first token and its length, over the runs of
        /// words `ids` gives (0 ends a run).
        func grams(_ ids: [Int], _ source: [Token], _ body: (UInt64, Int, Int) -> Void) {
            var runStart = 0
            func flush(_ end: Int) {
                for start in runStart..<end {
                    var key: UInt64 = 0
                    for n in 1...maxN where start + n <= end {
                        key = key << 16 | UInt64(ids[start + n - 1])
                        if n >= minN { body(key, start, n) }
                    }
                }
            }
            for index in ids.indices where ids[index] == 0 || source[index].breakBefore {
                flush(index)
                runStart = ids[index] == 0 ? index + 1 : index
            }
            flush(ids.count)
        }

        let repeated = tokenIDs.map { idCounts[$0] >= 2 ? $0 : 0 }
        grams(repeated, tokens) { key, index, n in
            counts.update(key, default: Gram(count: 0, token: index, n: n)) { $0.count += 1 }
        }
        var inTitle = WordSet()
        let titleIDs = title.tokens.map { token in isContent(token) ? ids[token.key] ?? 0 : 0 }
        grams(titleIDs, title.tokens) { key, _, _ in inTitle.insert(key) }

        // Closed n-grams: drop a gram when a longer gram containing it is as frequent.
        var notClosed = WordSet()
        counts.forEach { key, gram in
            guard gram.n > 1 && gram.count >= 2 else { return }
            let prefix = key >> 16
            let suffix = key & ~(UInt64(0xFFFF) << UInt64(16 * (gram.n - 1)))
            if counts[prefix]?.count == gram.count { notClosed.insert(prefix) }
            if counts[suffix]?.count == gram.count { notClosed.insert(suffix) }
        }

        var owner = [Int32](repeating: -1, count: tokens.count)
        for (index, mention) in mentions.enumerated() {
            for t in mention where t < owner.count { owner[t] = Int32(index) }
        }
        var candidates: [(key: UInt64, score: Double, token: Int, n: Int)] = []
        counts.forEach { key, seen in
            guard seen.count >= 2 && !notClosed.contains(hash: key) else { return }
            let count = seen.count
            let bonus = inTitle.contains(hash: key) ? 1.0 : 0.0
            let phrase = tokens[seen.token..<(seen.token + seen.n)].reduce(0) { WordHash.combine($0, $1.key) }
            if Stopwords.phraseIDs.contains(phrase) { return }
            let range = seen.token..<(seen.token + seen.n)
            if cutsMention(range, owner: owner) { return }
            if seen.n == 1 && (isSyllabic || isUnspaced) {
                let token = tokens[seen.token]
                guard token.isAcronym || capitalizedInside.contains(token) else { return }
            }
            let score = (Double(count) + bonus * 2) * weight(seen.n)
            candidates.append((key, score, seen.token, seen.n))
        }
        // Ties go to the earlier phrase, then to the longer one at the same place ("Real Estate
        // Markets" before "Real Estate"): `counts` is a dictionary, whose order differs from run
        // to run, and equal candidates left in that order gave different keywords each time.
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            return a.token != b.token ? a.token < b.token : a.n > b.n
        }

        var chosen: [(range: Range<Int>, ids: [Int])] = []
        var keywords: [String] = []
        for candidate in candidates {
            let range = candidate.token..<(candidate.token + candidate.n)
            let ids = Array(tokenIDs[range])
            let overlaps = chosen.contains { other in
                other.range.overlaps(range) || contains(other.ids, ids) || contains(ids, other.ids)
            }
            if overlaps { continue }
            chosen.append((range, ids))
            keywords.append(surface(range))
            if keywords.count == limit { break }
        }
        return keywords
    }

    /// Whether `range` holds part of a mention but not all of it, or part of two.
    private func cutsMention(_ range: Range<Int>, owner: [Int32]) -> Bool {
        for t in [range.lowerBound, range.upperBound - 1] where owner[t] >= 0 {
            let mention = mentions[Int(owner[t])]
            if !(range.contains(mention.lowerBound) && range.contains(mention.upperBound - 1))
                && !(mention.contains(range.lowerBound) && mention.contains(range.upperBound - 1))
            {
                return true
            }
        }
        return false
    }

    private func weight(_ n: Int) -> Double {
        if isUnspaced { return [0, 0.8, 1.0, 1.3, 1.6][min(n, 4)] }
        if isSyllabic { return [0, 1.0, 1.5, 1.6, 2.0][min(n, 4)] }
        return [0, 1.0, 1.8, 2.2][min(n, 3)]
    }

    /// Whether `small` appears as consecutive elements of `big`.
    private func contains(_ big: [Int], _ small: [Int]) -> Bool {
        guard small.count <= big.count else { return false }
        search: for start in 0...(big.count - small.count) {
            for k in small.indices where big[start + k] != small[k] { continue search }
            return true
        }
        return false
    }

    /// The phrase as written when it is a name (every word capitalized), else in lower case.
    private func surface(_ range: Range<Int>) -> String {
        let tokens = text.tokens[range]
        if isUnspaced { return tokens.map(text.text(of:)).joined() }
        let isName = tokens.allSatisfy { $0.isCapitalized || $0.isAcronym } && !tokens.first!.isInitial
            || tokens.allSatisfy(\.isAcronym)
        return tokens.map { isName ? text.text(of: $0) : $0.lower }.joined(separator: " ")
    }
}
