import Foundation
import RunnelProtocol

/// A search as a person types it, turned into an FTS5 `MATCH` expression over folded text.
///
/// Words are folded (``TextFolding``) and all must occur, in any order: `phai bo ngoai giao`.
/// Words typed with their marks (`Đà Nẵng`) still match every spelling, but articles that have
/// them as written rank first (``markedWords``).
/// Quotes make a phrase whose words must be adjacent: `"phai bo" Matxcova`. A trailing `*` makes
/// a prefix: `Matx*`. Punctuation separates words, so no input is an FTS5 syntax error.
///
/// ```swift
/// let query = try SearchQuery("Phái bộ \"ngoại giao\" Matx*")
/// query.matchExpression  // "\"phai\" \"bo\" \"ngoai giao\" \"matx\"*"
/// try SearchQuery("da nang").matchExpression  // "(\"da\" \"nang\") OR \"da nang\""
/// ```
public struct SearchQuery: Sendable, Hashable {
    /// One part of a query: a word, a phrase or a prefix, already folded.
    public struct Term: Sendable, Hashable {
        /// The folded words (one unless it is a phrase).
        public var words: [String]
        /// Whether the last word matches as a prefix.
        public var isPrefix: Bool
    }

    /// What was typed.
    public var text: String
    /// The parts, in the order typed.
    public var terms: [Term]
    /// The words typed with diacritics, lower-cased (`Đà Nẵng` → `đà`, `nẵng`): an article that
    /// has them as written ranks above one that only matches folded (`đa năng`).
    public var markedWords: [String]

    /// Parses a query.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` when it has no word to search for.
    public init(_ text: String) throws(RunnelError) {
        self.text = text
        var terms: [Term] = []
        // Split on quotes: odd pieces are phrases.
        for (index, piece) in text.split(separator: "\"", omittingEmptySubsequences: false).enumerated() {
            if index % 2 == 1 {
                let words = TextFolding.terms(String(piece))
                if !words.isEmpty { terms.append(Term(words: words, isPrefix: false)) }
                continue
            }
            for chunk in piece.split(whereSeparator: { $0.isWhitespace }) {
                let words = TextFolding.terms(String(chunk))
                guard !words.isEmpty else { continue }
                // `a-b` is two words; a `*` right after the last one makes it a prefix.
                for (i, word) in words.enumerated() {
                    let prefix = i == words.count - 1 && chunk.hasSuffix("*")
                    terms.append(Term(words: [word], isPrefix: prefix))
                }
            }
        }
        guard !terms.isEmpty else {
            throw RunnelError(.invalidArgument, "the query \(Self.quoted(text)) has no word to search for; type one or more words, e.g. runnel search 'phai bo ngoai giao'")
        }
        self.terms = terms
        markedWords = TextFolding.tokens(text).compactMap { token in
            let word = String(text[token.range]).precomposedStringWithCanonicalMapping.lowercased()
            return word == token.folded ? nil : word
        }
    }

    /// The query as a message quotes it: in quotes, control characters escaped, and a long one cut
    /// to its first 60 characters with the length of the whole (a 4,000-word query is not echoed).
    public var quoted: String { Self.quoted(text) }

    public static func quoted(_ text: String) -> String {
        let limit = 60
        var shown = ""
        var count = 0
        for character in text {
            count += 1
            guard count <= limit else { continue }
            if character.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
                shown += character.unicodeScalars.map { $0.escaped(asASCII: true) }.joined()
            } else {
                shown.append(character)
            }
        }
        return count <= limit ? "\"\(shown)\"" : "\"\(shown)…\" (\(count) characters)"
    }

    /// The FTS5 expression: every term quoted, all required.
    ///
    /// When the query is two or more plain words, the words as one phrase are added with `OR`:
    /// that matches no other article (the phrase implies every word), but BM25 adds the phrase's
    /// score, so articles where the words stand together (`Đà Nẵng`) rank above articles where
    /// they are scattered (`đã … năng`).
    public var matchExpression: String {
        let all = terms.map { term in
            "\"" + term.words.joined(separator: " ") + "\"" + (term.isPrefix ? "*" : "")
        }.joined(separator: " ")
        let plainWords = terms.allSatisfy { $0.words.count == 1 && !$0.isPrefix }
        guard terms.count >= 2, plainWords else { return all }
        return "(\(all)) OR \"" + terms.map { $0.words[0] }.joined(separator: " ") + "\""
    }

    /// Whether `text` holds every word of ``markedWords`` as written (ignoring case): true when
    /// there are none.
    public func hasMarkedWords(in text: String) -> Bool {
        guard !markedWords.isEmpty else { return true }
        var missing = Set(markedWords)
        for token in TextFolding.tokens(text) {
            missing.remove(String(text[token.range]).precomposedStringWithCanonicalMapping.lowercased())
            if missing.isEmpty { return true }
        }
        return false
    }

    /// Whether a folded word of a text is one that the query looks for (for highlighting).
    public func matches(_ folded: String) -> Int? {
        for (index, term) in terms.enumerated() {
            for (position, word) in term.words.enumerated() {
                let prefix = term.isPrefix && position == term.words.count - 1
                if prefix ? folded.hasPrefix(word) : folded == word { return index }
            }
        }
        return nil
    }
}
