import Foundation
import RunnelProtocol

/// Folds text for diacritic- and case-insensitive search: `"Phái bộ Đà Nẵng"` → `"phai bo da nang"`.
///
/// The store indexes folded text and folds every query the same way, so a query typed without
/// marks finds text written with them. Folding lower-cases, decomposes (NFD), drops the combining
/// marks of the Latin, Greek and Cyrillic blocks (U+0300–U+036F: Vietnamese tones, circumflex,
/// breve and horn, French accents, …) and maps the letters that carry a stroke rather than a mark
/// (`đ Đ` → `d`, which Unicode does not decompose). Marks of other scripts (Devanagari, Thai) are
/// kept: they are part of those words, not decorations.
///
/// The FTS5 table's own tokenizer (`unicode61 remove_diacritics 2`) does the same for the cases
/// it knows; folding here too makes the result independent of SQLite's version and lets the
/// snippet builder match tokens of the original text.
///
/// ```swift
/// TextFolding.fold("Matxcơva")   // "matxcova"
/// TextFolding.terms("Đà Nẵng!")  // ["da", "nang"]
/// ```
public enum TextFolding {
    /// A word of a text: its range in the original string and its folded form.
    public struct Token: Sendable, Hashable {
        /// Where the word is in the original text.
        public var range: Range<String.Index>
        /// The word folded (``fold(_:)``).
        public var folded: String
    }

    /// Bumped whenever ``fold(_:)`` changes what it returns: the store then rebuilds its index,
    /// since a contentless FTS5 table can only forget text that folds exactly as it did.
    public static let version = 2

    /// `text` in lower case without diacritics, with `đ` → `d`.
    ///
    /// Scalars below U+2000 (Latin, Greek, Cyrillic, Vietnamese's Latin Extended Additional)
    /// fold through a table built once from their canonical decompositions, so text in NFC
    /// and NFD fold alike; CJK, Hangul and General Punctuation pass unchanged (they have no
    /// case); other scalars are lower-cased.
    public static func fold(_ text: String) -> String {
        withFoldRoom(text) { utf8, room in
            var fits = true
            let folded = String(unsafeUninitializedCapacity: room) { out in
                guard let written = fold(utf8, into: out) else {
                    fits = false
                    return 0
                }
                return written
            }
            return fits ? folded : nil
        }
    }

    /// ``fold(_:)``'s UTF-8 as `Data`, for the contentless index: FTS5 reads every value it
    /// tokenizes as text, so the index holds the same tokens as from the String, and the folded
    /// bytes are not checked again as UTF-8 (a String checks them: 2 % of storing an article).
    static func foldedBytes(_ text: String) -> Data {
        withFoldRoom(text) { utf8, room in
            // Not `Data(count:)`, which zeroes the room first: a memset of three times the text.
            let bytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: room)
            guard let written = fold(utf8, into: bytes) else {
                bytes.deallocate()
                return nil
            }
            return Data(bytesNoCopy: bytes.baseAddress!, count: written, deallocator: .custom { bytes, _ in bytes.deallocate() })
        }
    }

    /// What `fold` makes of `text`'s UTF-8 with room for `room` bytes: first three times the
    /// input, which is enough for every scalar Unicode has (U+0CCB folds to its three-scalar
    /// decomposition), then sixteen times should `fold` give nil.
    private static func withFoldRoom<R>(_ text: String, _ fold: (UnsafeBufferPointer<UInt8>, _ room: Int) -> R?) -> R {
        var text = text
        return text.withUTF8 { utf8 in
            for factor in [3, 16] {
                if let folded = fold(utf8, max(utf8.count * factor, 1)) { return folded }
            }
            preconditionFailure("a scalar folded to more than 16 times its UTF-8 length")
        }
    }

    /// Folds valid UTF-8 into `out` through the tables; the bytes written, or `nil` when `out`
    /// is too small.
    private static func fold(_ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>) -> Int? {
        foldTable.bytes.withUnsafeBufferPointer { table in
            foldTable.starts.withUnsafeBufferPointer { starts in
                packedFolds.withUnsafeBufferPointer { packed in
                    fold(utf8, into: out, table: table, starts: starts, packed: packed)
                }
            }
        }
    }

    /// Folds valid UTF-8 into `out`; returns the bytes written, or `nil` when `out` is too small.
    ///
    /// Runs of ASCII go eight bytes at a time while they last (upper case found and lowered in
    /// the word, without a branch per byte); a scalar below U+2000 whose folded form is at most
    /// three bytes is written with one four-byte store from `packed` (``packedFolds``).
    private static func fold(
        _ utf8: UnsafeBufferPointer<UInt8>, into out: UnsafeMutableBufferPointer<UInt8>,
        table: UnsafeBufferPointer<UInt8>, starts: UnsafeBufferPointer<Int>, packed: UnsafeBufferPointer<UInt32>
    ) -> Int? {
        guard let input = utf8.baseAddress, let output = out.baseAddress else { return 0 }
        let count = utf8.count
        let capacity = out.count
        var i = 0
        var o = 0
        while i < count {
            let lead = input[i]
            if lead < 0x80 {
                // ASCII, eight bytes at a time while there are eight and room for them.
                while i &+ 8 <= count && o &+ 8 <= capacity {
                    let word = UnsafeRawPointer(input + i).loadUnaligned(as: UInt64.self)
                    guard word & 0x8080_8080_8080_8080 == 0 else { break }
                    UnsafeMutableRawPointer(output + o).storeBytes(of: lowercasedASCII(word), as: UInt64.self)
                    i &+= 8
                    o &+= 8
                }
                while i < count {
                    let byte = input[i]
                    guard byte < 0x80 else { break }
                    guard o < capacity else { return nil }
                    output[o] = byte &- 0x41 < 26 ? byte | 0x20 : byte
                    o &+= 1
                    i &+= 1
                }
                continue
            }
            let (v, length) = ValidUTF8.scalar(utf8, at: i)
            i &+= length
            if v < 0x2000 {
                let entry = packed[Int(v)]
                if entry >> 24 <= 3 && o &+ 4 <= capacity {
                    // The fourth byte written is the length: past the end of what is kept.
                    UnsafeMutableRawPointer(output + o).storeBytes(of: entry.littleEndian, as: UInt32.self)
                    o &+= Int(entry >> 24)
                } else {
                    let start = starts[Int(v)]
                    guard append(table.baseAddress! + start, starts[Int(v) &+ 1] &- start, to: output, at: &o, capacity) else { return nil }
                }
            } else if (0x3000...0xD7FF).contains(v) || v < 0x2070 {
                // CJK and Hangul, and General Punctuation (dashes, quotes, `…`): caseless.
                guard append(input + (i &- length), length, to: output, at: &o, capacity) else { return nil }
            } else {
                var mapping = Unicode.Scalar(v)!.properties.lowercaseMapping
                guard mapping.withUTF8({ append($0.baseAddress!, $0.count, to: output, at: &o, capacity) }) else { return nil }
            }
        }
        return o
    }

    /// Copies `length` bytes to `output` at `o` and moves `o` past them, if they fit in `capacity`.
    @inline(__always)
    private static func append(
        _ bytes: UnsafePointer<UInt8>, _ length: Int, to output: UnsafeMutablePointer<UInt8>, at o: inout Int, _ capacity: Int
    ) -> Bool {
        guard o &+ length <= capacity else { return false }
        (output + o).update(from: bytes, count: length)
        o &+= length
        return true
    }

    /// Eight ASCII bytes with `A`–`Z` lowered: a byte's high bit, after adding `0x80 - 0x41`
    /// and `0x80 - 0x5B` (no carry leaves a byte below 0x80), says whether it is at least `A`
    /// and at least `[`; where the first holds and not the second, `0x20` is set.
    @inline(__always)
    private static func lowercasedASCII(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let atLeastA = word &+ ones &* (0x80 - 0x41)
        let pastZ = word &+ ones &* (0x80 - 0x5B)
        let upper = atLeastA & ~pastZ & 0x8080_8080_8080_8080
        return word | upper >> 2
    }

    /// The UTF-8 folded form of every scalar below U+2000: scalar `v` folds to
    /// `bytes[starts[v]..<starts[v + 1]]`. One flat array, so folding a text allocates nothing
    /// per character.
    ///
    /// Built once a process, from one canonical decomposition of all the scalars, each followed
    /// by U+0000: a starter, across which no mark is reordered, so splitting the result there
    /// gives each scalar's own decomposition (8,192 decompositions of one scalar each took
    /// ~50 M instructions, the most of a `runnel search`).
    private static let foldTable: (bytes: [UInt8], starts: [Int]) = {
        var all: [UInt8] = []
        all.reserveCapacity(0x2000 * 4)
        for value in UInt32(1)..<0x2000 {
            UTF8.encode(Unicode.Scalar(value)!) { all.append($0) }  // no surrogates below U+D800
            all.append(0)
        }
        let decompositions = String(decoding: all, as: UTF8.self).decomposedStringWithCanonicalMapping.unicodeScalars.split(
            separator: "\u{0}", omittingEmptySubsequences: false)
        // One part per scalar, and the empty one after the last separator; should the split
        // ever give another count, each scalar is decomposed by itself.
        let split = decompositions.count == 0x2000
        var bytes: [UInt8] = [0]  // U+0000 folds to itself
        var starts: [Int] = [0]
        for (offset, value) in (UInt32(1)..<0x2000).enumerated() {
            starts.append(bytes.count)
            bytes += split
                ? folded(value, decomposition: decompositions[offset])
                : folded(value, decomposition: String(Unicode.Scalar(value)!).decomposedStringWithCanonicalMapping.unicodeScalars)
        }
        starts.append(bytes.count)
        return (bytes, starts)
    }()

    /// ``foldTable`` again, for the scalars below U+2000 whose folded form is at most three
    /// bytes: those bytes in the low three bytes, first byte lowest, and their count in the
    /// fourth. A longer form has a count of 0xFF there, and is read from ``foldTable``.
    private static let packedFolds: [UInt32] = (0..<0x2000).map { v in
        let bytes = foldTable.bytes[foldTable.starts[v]..<foldTable.starts[v + 1]]
        guard bytes.count <= 3 else { return 0xFF00_0000 }
        var entry = UInt32(bytes.count) << 24
        for (k, byte) in bytes.enumerated() { entry |= UInt32(byte) << (8 * k) }
        return entry
    }

    /// The folded form of one scalar below U+2000, from its canonical decomposition.
    private static func folded(_ value: UInt32, decomposition: some Sequence<Unicode.Scalar>) -> [UInt8] {
        if (0x0300...0x036F).contains(value) { return [] }
        if [0x0110, 0x0111, 0x0189, 0x0256].contains(value) { return Array("d".utf8) }  // Đ đ Ɖ ɖ
        var folded = ""
        for part in decomposition where !(0x0300...0x036F).contains(part.value) {
            folded += part.properties.lowercaseMapping
        }
        return Array(folded.utf8)
    }

    /// Calls `body` with each word of valid UTF-8 `utf8` folded, in order: the words of
    /// ``tokens(_:)``, each folded as ``fold(_:)`` folds it, without a String for either (the
    /// PostgreSQL store's search vector: issue 14). The buffer is valid only during the call.
    static func forEachFoldedWord(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        var word: [UInt8] = []
        word.reserveCapacity(64)
        var inWord = false
        foldTable.bytes.withUnsafeBufferPointer { table in
            foldTable.starts.withUnsafeBufferPointer { starts in
                wordScalars.withUnsafeBufferPointer { isWord in
                    let count = utf8.count
                    var i = 0
                    while i < count {
                        let lead = utf8[i]
                        let (v, length) = ValidUTF8.scalar(utf8, at: i)
                        let wordScalar = v < 0x2000 ? isWord[Int(v)] : Unicode.Scalar(v).map(isWordScalar) ?? false
                        if wordScalar {
                            inWord = true
                            if v < 0x80 {
                                word.append(lead &- 0x41 < 26 ? lead | 0x20 : lead)
                            } else if v < 0x2000 {
                                word.append(contentsOf: UnsafeBufferPointer(rebasing: table[starts[Int(v)]..<starts[Int(v) + 1]]))
                            } else if (0x3000...0xD7FF).contains(v) {
                                word.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[i..<(i + length)]))
                            } else if let scalar = Unicode.Scalar(v) {
                                word.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
                            }
                        } else if inWord {
                            // A run of marks alone (after a space: "◌́" is U+25CC, then U+0301) folds to
                            // nothing: no word (PostgreSQL refuses an empty lexeme, FTS5 has none).
                            if !word.isEmpty { word.withUnsafeBufferPointer(body) }
                            word.removeAll(keepingCapacity: true)
                            inWord = false
                        }
                        i += length
                    }
                }
            }
        }
        if inWord && !word.isEmpty { word.withUnsafeBufferPointer(body) }
    }

    /// ``isWordScalar(_:)`` of every scalar below U+2000, looked up once.
    private static let wordScalars: [Bool] = (UInt32(0)..<0x2000).map { Unicode.Scalar($0).map(isWordScalar) ?? false }

    /// The folded words of `text`, in order: runs of letters, digits and marks.
    public static func terms(_ text: String) -> [String] {
        tokens(text).map(\.folded)
    }

    /// The words of `text` with their ranges in `text` and their folded forms.
    public static func tokens(_ text: String) -> [Token] {
        var result: [Token] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            guard isWordScalar(scalars[index]) else {
                index = scalars.index(after: index)
                continue
            }
            let start = index
            while index < scalars.endIndex, isWordScalar(scalars[index]) {
                index = scalars.index(after: index)
            }
            let range = start..<index
            let folded = fold(String(text.unicodeScalars[range]))
            if !folded.isEmpty { result.append(Token(range: range, folded: folded)) }  // marks alone: no word
        }
        return result
    }

    /// Whether a scalar belongs to a word, as FTS5's `unicode61` tokenizer sees it (letters,
    /// numbers, private-use characters), plus combining marks, which stay with their letter.
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let v = scalar.value
            return (v >= 0x30 && v <= 0x39) || (v >= 0x41 && v <= 0x5A) || (v >= 0x61 && v <= 0x7A)
        }
        switch scalar.properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter,
            .decimalNumber, .letterNumber, .otherNumber, .privateUse,
            .nonspacingMark, .spacingMark, .enclosingMark:
            return true
        default:
            return false
        }
    }
}
