import Testing

@testable import ParseStage

/// ``Vocabulary/hints(forClassAndID:)`` reads bytes in one pass, its substring patterns with an
/// Aho–Corasick automaton; these tests hold it to the rule written out plainly with `String`s.
@Suite("Class and id hints")
struct ClassWordHintsTests {
    /// The rule of ``Vocabulary/hints(forClassAndID:)``, written for reading, not speed.
    static func plainHints(_ value: String) -> Hints {
        var hints: Hints = []
        let substrings: [([String], Hints)] = [
            (Vocabulary.boilerplateSubstrings, .boilerplate), (Vocabulary.linkListSubstrings, .linkList),
            (Vocabulary.furnitureSubstrings, .furniture), (Vocabulary.layoutSubstrings, .layout),
            (Vocabulary.positiveSubstrings, .positive), (Vocabulary.relatedSubstrings, .related),
            (Vocabulary.commentSubstrings, .comments), (Vocabulary.captionSubstrings, .caption),
            (Vocabulary.bylineSubstrings, .byline), (Vocabulary.dateSubstrings, .date),
            (["articlebody", "postbody", "entrycontent", "fckdetail", "articlecontent"], .articleBody),
        ]
        func isAlphanumeric(_ byte: UInt8) -> Bool {
            (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte >= 0x80
        }
        let words = value.utf8.split(whereSeparator: { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A || $0 == 0x0D })
        for rawWord in words where !rawWord.contains(where: { $0 == 0x5B || $0 == 0x3A || $0 == 0x26 }) {
            let lower = rawWord.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
            let word = String(decoding: lower, as: UTF8.self)
            var parts = lower.split(whereSeparator: { !isAlphanumeric($0) }).map { String(decoding: $0, as: UTF8.self) }
            if parts.count >= 2, parts[0] == "tag" || parts[0] == "category" { parts.removeFirst() }
            if Vocabulary.hiddenWordList.contains(word) { hints.insert(.hidden) }
            for candidate in [word] + parts {
                if Vocabulary.boilerplateWordList.contains(candidate) { hints.insert(.boilerplate) }
                if Vocabulary.furnitureWordList.contains(candidate) { hints.insert(.furniture) }
                if Vocabulary.linkListWordList.contains(candidate) { hints.insert(.linkList) }
            }
            let compact = String(decoding: lower.filter(isAlphanumeric), as: UTF8.self)
            for (patterns, hint) in substrings
            where patterns.contains(where: { compact.contains($0.replacingOccurrences(of: "-", with: "").replacingOccurrences(of: "_", with: "")) }) {
                hints.insert(hint)
            }
        }
        return hints
    }

    @Test("named cases")
    func namedCases() {
        #expect(Vocabulary.hints(forClassAndID: "NAV main-Content") == [.furniture, .layout, .positive])
        #expect(Vocabulary.hints(forClassAndID: "tag-related") == [.boilerplate, .related])  // "tag" passed over, "related" read
        #expect(Vocabulary.hints(forClassAndID: "tag") == [.boilerplate])
        #expect(Vocabulary.hints(forClassAndID: "sr-only") == [.hidden])
        #expect(Vocabulary.hints(forClassAndID: "x hidden-print") == [.boilerplate])
        #expect(Vocabulary.hints(forClassAndID: "md:nav footer") == [.furniture])
        #expect(Vocabulary.hints(forClassAndID: "").isEmpty)
        #expect(Vocabulary.hints(forClassAndID: "  \t\n ").isEmpty)
        #expect(Vocabulary.hints(forClassAndID: "a") == [])
        #expect(Vocabulary.hints(forClassAndID: "tin-lien-quan") == [.boilerplate, .related])
    }

    @Test("a pattern that begins inside another, or inside a near miss, is found")
    func overlappingPatterns() {
        // "sideba" is on the way to "sidebar" (furniture) when "n" comes: the automaton falls back
        // to "ba", on the way to "banner". "popup" ends where "promo" begins; "commen" + "tary".
        for value in ["sidebanner", "popupromo", "xcommentary", "mainavigation", "relaterelated"] {
            #expect(Vocabulary.hints(forClassAndID: value) == Self.plainHints(value), "\(value)")
        }
        #expect(Vocabulary.hints(forClassAndID: "sidebanner") == [.boilerplate])
        #expect(Vocabulary.hints(forClassAndID: "mainavigation") == [.furniture, .layout, .positive])
    }

    @Test("5,000 generated values give the hints of the plain rule")
    func generatedValues() {
        // Fragments that make patterns, near misses, separators, variants, capitals, non-ASCII.
        let fragments = Vocabulary.boilerplateSubstrings + Vocabulary.positiveSubstrings + Vocabulary.captionSubstrings
            + Vocabulary.furnitureSubstrings + Array(Vocabulary.boilerplateWordList) + Array(Vocabulary.hiddenWordList)
            + ["tag", "category", "toc", "NAV", "Ad", "x", "-", "_", ".", "lg:", "[&_", "]", "&", "é", "tiếng", "co", "mm", "ent", "d", "ate"]
        // A fixed linear congruential sequence: a failure names a value that comes back on the next run.
        var state: UInt64 = 0x5EED
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        for _ in 0..<5_000 {
            var value = ""
            for _ in 0..<Int(next() % 6) {
                for _ in 0...Int(next() % 3) {
                    value += fragments[Int(next() % UInt64(fragments.count))]
                    if next() % 4 == 0 { value += ["-", "_", ".", ""][Int(next() % 4)] }
                }
                value += [" ", "  ", "\t", "\n"][Int(next() % 4)]
            }
            #expect(Vocabulary.hints(forClassAndID: value) == Self.plainHints(value), "\(value.debugDescription)")
        }
    }

    @Test("with the page's word cache, values that share words give the hints of the plain rule")
    func cachedWords() {
        // One cache for all of them, as the walker keeps one per page: later values hit words
        // cached by earlier ones (in another case, in another order, with variants beside them).
        var words = HashedNameTable<Hints?>(empty: nil)
        let values = [
            "nav main-content", "main-content nav", "NAV x", "related tag-related", "tag-related post", "sr-only nav",
            "lg:nav nav", "nav", "comment-list entry", "entry comment-list hidden-print", "tin-lien-quan", "a b c tin-lien-quan",
        ]
        for value in values + values.reversed() {
            #expect(Vocabulary.hints(forClassAndID: value, words: &words) == Self.plainHints(value), "\(value.debugDescription)")
        }
    }
}

@Suite("Scalar counts on UTF-8")
struct ScalarCountTests {
    @Test("scalarCount is unicodeScalars.count", arguments: [
        "", "a", "plain ASCII text longer than eight bytes", "Đọc nhiều tin tức mới nhất", "😀😀 x 😀", "é", "日本語のテキストです",
        String(repeating: "ạ", count: 37) + "b",
    ])
    func sameCount(text: String) {
        #expect(text.scalarCount == text.unicodeScalars.count)
    }
}

@Suite("Hashed name tables")
struct HashedNameTableTests {
    @Test("values are kept through growth, a missing name reads as empty, zero is a name like any other")
    func keepsValues() {
        var table = HashedNameTable(empty: -1, capacity: 2)
        for name in 0..<5_000 as Range<UInt64> { table[name &* 0x1000_0000_01b3] = Int(name) }
        #expect((0..<5_000 as Range<UInt64>).allSatisfy { table[$0 &* 0x1000_0000_01b3] == Int($0) })
        #expect(table[0x1234_5678_9ABC_DEF1] == -1)
        table[0] += 2  // zero was stored above (name 0); it reads back and counts
        #expect(table[0] == 2)
    }
}

@Suite("Section labels")
struct SectionLabelTests {
    @Test("a label is known in any case, with the marks that lead or close it")
    func knownLabels() {
        #expect(Vocabulary.label(of: "Related:") == .related)
        #expect(Vocabulary.label(of: "» Tin liên quan") == .related)
        #expect(Vocabulary.label(of: "ĐỌC NHIỀU") == .boilerplate)  // lower-cased beyond ASCII
        #expect(Vocabulary.label(of: "Most Read ›") == .boilerplate)
        #expect(Vocabulary.label(of: "• Comments »") == .boilerplate)
        #expect(Vocabulary.label(of: "Читайте также:") == .related)
        #expect(Vocabulary.label(of: "相关新闻") == .related)
    }

    @Test("other lines are not labels")
    func otherLines() {
        #expect(Vocabulary.label(of: "") == nil)
        #expect(Vocabulary.label(of: "Related stories and more") == nil)
        #expect(Vocabulary.label(of: "Relate") == nil)
        #expect(Vocabulary.label(of: ":::") == nil)
        #expect(Vocabulary.label(of: String(repeating: "related ", count: 10)) == nil)
    }
}
