import RunnelProtocol

/// Cuts a ``Snippet`` out of an original (unfolded) text: the window of words that holds the most
/// different query terms, then the most matches, earliest first.
///
/// ```swift
/// let query = try SearchQuery("phai bo")
/// SnippetBuilder(words: 12).snippet(of: article.text, for: query)
/// ```
public struct SnippetBuilder: Sendable {
    /// How many words the passage holds at most.
    public var words: Int

    /// A builder of passages of at most `words` words.
    public init(words: Int = 24) {
        self.words = max(1, words)
    }

    /// The passage of `text` that best shows why it matched `query`; the text's start when no
    /// word of it matches (the match was in the title).
    public func snippet(of text: String, for query: SearchQuery) -> Snippet {
        let tokens = TextFolding.tokens(text)
        guard !tokens.isEmpty else { return Snippet(segments: []) }
        let matched = tokens.map { query.matches($0.folded) }

        // Best window start: most distinct terms, then most matched words, earliest.
        var best = (start: 0, distinct: -1, total: -1)
        let lastStart = max(0, tokens.count - words)
        var start = 0
        while start <= lastStart {
            let end = min(tokens.count, start + words)
            var seen = Set<Int>()
            var total = 0
            for i in start..<end {
                if let term = matched[i] {
                    seen.insert(term)
                    total += 1
                }
            }
            if seen.count > best.distinct || (seen.count == best.distinct && total > best.total) {
                best = (start, seen.count, total)
            }
            start += 1
        }
        // Begin the window a little before its first match, so the match has some context.
        var first = best.start
        let end = min(tokens.count, first + words)
        if let firstMatch = (first..<end).first(where: { matched[$0] != nil }), firstMatch - first > 3 {
            first = max(0, min(firstMatch - 3, tokens.count - words))
        }
        let last = min(tokens.count, first + words) - 1

        var segments: [Snippet.Segment] = []
        func plain(_ piece: Substring) {
            guard !piece.isEmpty else { return }
            // One line, each run of white space one space: paragraphs and list items joined
            // read "Pros & Cons Pros", not "Pros & Cons  Pros".
            var flat = ""
            var afterSpace = segments.last.map { !$0.isMatch && $0.text.last == " " } ?? false
            for character in piece {
                if character.isWhitespace {
                    if !afterSpace { flat.append(" ") }
                    afterSpace = true
                } else {
                    flat.append(character)
                    afterSpace = false
                }
            }
            guard !flat.isEmpty else { return }
            if let previous = segments.last, !previous.isMatch {
                segments[segments.count - 1].text += flat
            } else {
                segments.append(Snippet.Segment(text: flat, isMatch: false))
            }
        }
        if first > 0 { plain("…") }
        var cursor = tokens[first].range.lowerBound
        for i in first...last {
            let token = tokens[i]
            plain(text[cursor..<token.range.lowerBound])
            if matched[i] != nil {
                segments.append(Snippet.Segment(text: String(text[token.range]), isMatch: true))
            } else {
                plain(text[token.range])
            }
            cursor = token.range.upperBound
        }
        if last < tokens.count - 1 { plain("…") }
        return Snippet(segments: segments)
    }
}

extension SnippetBuilder {
    /// Hits as a store finds them, best first by its own ranking, with each article's text.
    typealias Found = [(hit: SearchHit, text: String)]

    /// The last step of a search, the same for every store: hits whose text has the query's
    /// marked words exactly first (order kept otherwise), near-duplicates folded into the best
    /// of them (``NearDuplicates``), the best `limit`, each with its snippet.
    ///
    /// `fetch` returns the store's best `candidates` hits. It is asked for `limit` when neither
    /// rule can move or remove a hit, else for `max(4 × limit, 50)`, and for four times as many
    /// again while collapsing left fewer than `limit` hits and the store had more.
    func finish(
        for query: SearchQuery, limit: Int, duplicates: NearDuplicates,
        fetch: (_ candidates: Int) async throws(RunnelError) -> Found
    ) async throws(RunnelError) -> [SearchHit] {
        let limit = max(0, limit)
        guard limit > 0 else { return [] }
        let reorders = !query.markedWords.isEmpty || duplicates.maxDistance != nil
        // Counted with saturation: a caller's limit may be anything (the command caps its own).
        var candidates = reorders ? max(limit.multipliedReportingOverflow(by: 4).overflow ? Int.max : limit * 4, 50) : limit
        while true {
            let found = try await fetch(candidates)
            var ranked = found
            if !query.markedWords.isEmpty {
                let exact = found.map { query.hasMarkedWords(in: $0.hit.title + "\n" + $0.text) }
                ranked = zip(found, exact).filter { $1 }.map(\.0) + zip(found, exact).filter { !$1 }.map(\.0)
            }
            let hits = duplicates.collapse(ranked.map(\.hit))
            if hits.count >= limit || found.count < candidates {
                let texts = Dictionary(found.map { ($0.hit.articleID, $0.text) }, uniquingKeysWith: { first, _ in first })
                return hits.prefix(limit).map { hit in
                    var hit = hit
                    hit.snippet = snippet(of: texts[hit.articleID] ?? "", for: query)
                    return hit
                }
            }
            guard candidates < Int.max / 4 else { candidates = Int.max; continue }
            candidates *= 4
        }
    }
}
