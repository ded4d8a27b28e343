/// The PostgreSQL store's full-text search, built from the same folding as the SQLite store's.
///
/// The store does not let PostgreSQL's parser cut the text into words: it writes the `tsvector`
/// itself from ``TextFolding/terms(_:)`` (title words weight `A`, text words `D`), and each query
/// is written as a `tsquery` from the same folded words. So PostgreSQL finds what SQLite finds,
/// whatever its locale or text search configuration, and the `unaccent` extension is not needed.
///
/// ```swift
/// PostgresTextSearch.vector(title: "Phái bộ", text: "Đà Nẵng")  // "'bo':2A 'da':3 'nang':4 'phai':1A"
/// try SearchQuery("\"phai bo\" Matx*").tsQuery                // "'phai' <-> 'bo' & 'matx':*"
/// ```
public enum PostgresTextSearch {
    /// PostgreSQL keeps positions up to 16383 and 256 positions per word; words longer than
    /// 2046 bytes cannot be indexed.
    static let maxPosition = 16383
    static let maxPositionsPerWord = 256
    static let maxWordBytes = 2046

    /// The `tsvector` literal of an article's folded title and text.
    ///
    /// Written into one string with each word's positions kept as numbers (a title position
    /// negative, for weight `A`) and appended to in place: building a string per position and
    /// copying each word's list on every occurrence cost more than the rest of the store's work
    /// on an article.
    public static func vector(title: String, text: String) -> String {
        var positions: [String: [Int]] = [:]
        var position = 0
        var bytes = 0
        func add(_ words: [String], title: Bool) {
            for word in words {
                position = min(position + 1, maxPosition)
                let length = word.utf8.count
                guard length <= maxWordBytes else { continue }
                let entry = title ? -position : position
                if let index = positions.index(forKey: word) {
                    if positions.values[index].count < maxPositionsPerWord { positions.values[index].append(entry) }
                } else {
                    positions[word] = [entry]
                    bytes += length + 4
                }
                bytes += 7
            }
        }
        add(TextFolding.terms(title), title: true)
        add(TextFolding.terms(text), title: false)
        var literal = ""
        literal.reserveCapacity(bytes)
        for word in positions.keys.sorted() {
            if !literal.isEmpty { literal.append(" ") }
            appendQuoted(word, to: &literal)
            literal.append(":")
            for (n, entry) in positions[word, default: []].enumerated() {
                if n > 0 { literal.append(",") }
                literal.append(String(abs(entry)))
                if entry < 0 { literal.append("A") }
            }
        }
        return literal
    }

    /// Appends ``quoted(_:)`` of `word`, copying it as it is when it has no quote or backslash.
    static func appendQuoted(_ word: String, to literal: inout String) {
        if word.utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\\") }) {
            literal.append(quoted(word))
        } else {
            literal.append("'")
            literal.append(word)
            literal.append("'")
        }
    }

    /// A word as a `tsvector`/`tsquery` lexeme: in quotes, quotes and backslashes doubled.
    static func quoted(_ word: String) -> String {
        "'" + word.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "''") + "'"
    }
}

extension SearchQuery {
    /// Every term required (`&`), a phrase's words adjacent (`<->`), a prefix as `:*`.
    public var tsQuery: String {
        terms.map { term in
            term.words.enumerated().map { index, word in
                PostgresTextSearch.quoted(word) + (term.isPrefix && index == term.words.count - 1 ? ":*" : "")
            }.joined(separator: " <-> ")
        }.joined(separator: " & ")
    }

    /// For two or more plain words, the words as one phrase: ranked beside ``tsQuery`` so that
    /// articles where the words stand together come first, as ``matchExpression`` does in SQLite.
    public var tsPhraseQuery: String? {
        let plainWords = terms.allSatisfy { $0.words.count == 1 && !$0.isPrefix }
        guard terms.count >= 2, plainWords else { return nil }
        return terms.map { PostgresTextSearch.quoted($0.words[0]) }.joined(separator: " <-> ")
    }
}
