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
    public static func vector(title: String, text: String) -> String {
        var positions: [String: [String]] = [:]
        var position = 0
        func add(_ words: [String], weight: String) {
            for word in words {
                position = min(position + 1, maxPosition)
                guard word.utf8.count <= maxWordBytes else { continue }
                var list = positions[word, default: []]
                if list.count < maxPositionsPerWord { list.append("\(position)\(weight)") }
                positions[word] = list
            }
        }
        add(TextFolding.terms(title), weight: "A")
        add(TextFolding.terms(text), weight: "")
        return positions.keys.sorted().map { word in
            quoted(word) + ":" + positions[word, default: []].joined(separator: ",")
        }.joined(separator: " ")
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
