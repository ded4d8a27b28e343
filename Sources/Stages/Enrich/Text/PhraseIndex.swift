/// A set of multi-token phrases, found at a token position in constant time.
///
/// ```swift
/// let titles = PhraseIndex([["người", "phát", "ngôn"], ["ông"]])
/// titles.match(in: text.tokens, at: 5)   // 3 if tokens 5…7 are "Người phát ngôn"
/// ```
struct PhraseIndex: Sendable {
    /// Phrases by their first token, longest first.
    private var byFirst: [UInt64: [[UInt64]]] = [:]
    /// The first words, for a quick "no" before the dictionary look-up.
    private var firstWords = WordSet()

    /// Indexes `phrases` (lower case, one string per token).
    init(_ phrases: [[String]]) {
        for phrase in phrases where !phrase.isEmpty {
            let keys = phrase.map(WordHash.of)
            byFirst[keys[0], default: []].append(keys)
            firstWords.insert(keys[0])
        }
        for key in byFirst.keys { byFirst[key]!.sort { $0.count > $1.count } }
    }

    /// The length in tokens of the longest phrase that starts at `i`, compared in lower case;
    /// tokens of a phrase must follow each other on one line with nothing between them.
    func match(in tokens: [Token], at i: Int, limit: Int? = nil) -> Int? {
        guard i < tokens.count, firstWords.contains(tokens[i]), let candidates = byFirst[tokens[i].key] else {
            return nil
        }
        let end = limit ?? tokens.count
        for phrase in candidates where i + phrase.count <= end {
            var ok = true
            for k in 1..<phrase.count {
                let token = tokens[i + k]
                if token.kind == .punctuation || token.breakBefore || token.key != phrase[k] {
                    ok = false
                    break
                }
            }
            if ok { return phrase.count }
        }
        return nil
    }

    /// Whether `phrase` (lower-case tokens) is in the index.
    func contains(_ phrase: [String]) -> Bool {
        guard let first = phrase.first else { return false }
        return byFirst[WordHash.of(first)]?.contains(phrase.map(WordHash.of)) ?? false
    }
}
