import Foundation
import RunnelProtocol

/// The PostgreSQL store's full-text search, built from the same folding as the SQLite store's.
///
/// The store does not let PostgreSQL's parser cut the text into words: it writes the `tsvector`
/// itself from the folded words of ``TextFolding`` (title words weight `A`, text words `D`), and each query
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
    /// Written from the folded words' bytes (``TextFolding/forEachFoldedWord(_:_:)``) into a
    /// table of lexemes, without a String per word or per position: with Strings it was two
    /// thirds of the PostgreSQL store's CPU (issue 14). Lexemes come in byte order, as
    /// PostgreSQL sorts them; each keeps its first 256 positions (a title position weight `A`).
    public static func vector(title: String, text: String) -> String {
        var lexemes = LexemeTable()
        var position = 0
        func add(_ part: String, title: Bool) {
            var part = part
            part.withUTF8 { utf8 in
                TextFolding.forEachFoldedWord(utf8) { word in
                    position = min(position + 1, maxPosition)
                    guard word.count <= maxWordBytes else { return }
                    lexemes.add(word, position: Int32(title ? -position : position))
                }
            }
        }
        add(title, title: true)
        add(text, title: false)
        return lexemes.literal()
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

/// The lexemes of one `tsvector`: their bytes in one arena, found again by an open-addressing
/// table on their FNV-1a hash, each with its positions (negative: weight `A`).
private struct LexemeTable {
    private var bytes: [UInt8] = []
    private var lexemes: [(start: Int, count: Int, positions: [Int32])] = []
    /// Indices into `lexemes` plus one; 0 is an empty slot. A power of two, at most half full.
    private var slots = [Int32](repeating: 0, count: 256)

    mutating func add(_ word: UnsafeBufferPointer<UInt8>, position: Int32) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: FNV1a.hash(word)) & mask
        while slots[slot] != 0 {
            let index = Int(slots[slot]) - 1
            if equals(index, word) {
                if lexemes[index].positions.count < PostgresTextSearch.maxPositionsPerWord {
                    lexemes[index].positions.append(position)
                }
                return
            }
            slot = (slot + 1) & mask
        }
        lexemes.append((bytes.count, word.count, [position]))
        bytes.append(contentsOf: word)
        slots[slot] = Int32(lexemes.count)
        if lexemes.count * 2 > slots.count { grow() }
    }

    private func equals(_ index: Int, _ word: UnsafeBufferPointer<UInt8>) -> Bool {
        let lexeme = lexemes[index]
        guard lexeme.count == word.count else { return false }
        return bytes.withUnsafeBufferPointer { arena in
            word.count == 0 || memcmp(arena.baseAddress! + lexeme.start, word.baseAddress!, word.count) == 0
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        bytes.withUnsafeBufferPointer { arena in
            for (index, lexeme) in lexemes.enumerated() {
                var slot = Int(truncatingIfNeeded: FNV1a.hash(arena[lexeme.start..<(lexeme.start + lexeme.count)])) & mask
                while slots[slot] != 0 { slot = (slot + 1) & mask }
                slots[slot] = Int32(index + 1)
            }
        }
    }

    /// `'lexeme':1A,2 'other':3 …`, lexemes in byte order, quotes and backslashes doubled.
    func literal() -> String {
        bytes.withUnsafeBufferPointer { arena in
            let order = lexemes.indices.sorted { a, b in
                let x = lexemes[a]
                let y = lexemes[b]
                let common = min(x.count, y.count)
                let compared = common == 0 ? 0 : memcmp(arena.baseAddress! + x.start, arena.baseAddress! + y.start, common)
                return compared != 0 ? compared < 0 : x.count < y.count
            }
            var out: [UInt8] = []
            out.reserveCapacity(arena.count + lexemes.count * 8 + lexemes.reduce(0) { $0 + $1.positions.count * 6 })
            for (n, index) in order.enumerated() {
                if n > 0 { out.append(UInt8(ascii: " ")) }
                let lexeme = lexemes[index]
                out.append(UInt8(ascii: "'"))
                for byte in arena[lexeme.start..<(lexeme.start + lexeme.count)] {
                    if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\\") { out.append(byte) }
                    out.append(byte)
                }
                out.append(UInt8(ascii: "'"))
                out.append(UInt8(ascii: ":"))
                for (k, position) in lexeme.positions.enumerated() {
                    if k > 0 { out.append(UInt8(ascii: ",")) }
                    appendDecimal(Int(position.magnitude), to: &out)
                    if position < 0 { out.append(UInt8(ascii: "A")) }
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }

    private func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        if value >= 10 { appendDecimal(value / 10, to: &out) }
        out.append(UInt8(ascii: "0") + UInt8(value % 10))
    }
}
