import Testing

@testable import EnrichStage

/// Near-duplicate detection and the content hash.
@Suite struct FingerprintTests {
    @Test func lightlyEditedCopyIsNear() throws {
        let text = try Fixture.natoArticle().text
        let edited = text
            .replacingOccurrences(of: "vừa bày tỏ", with: "đã bày tỏ")
            .replacingOccurrences(of: "năm 2014", with: "từ năm 2014")
            .replacingOccurrences(of: "tám nhân viên", with: "8 nhân viên")
            + "\n\nBài viết được cập nhật lúc 10 giờ."
        #expect(edited != text)
        let distance = SimHash.distance(SimHash.fingerprint(of: text), SimHash.fingerprint(of: edited))
        #expect(distance <= 10, "distance \(distance)")
        // One word changed: closer still.
        let oneWord = text.replacingOccurrences(of: "vừa bày tỏ", with: "đã bày tỏ")
        let small = SimHash.distance(SimHash.fingerprint(of: text), SimHash.fingerprint(of: oneWord))
        #expect(small <= 8, "distance \(small)")
        #expect(small > 0)
    }

    @Test func differentTextIsFar() throws {
        let seed = try Fixture.natoArticle()
        // The site's boilerplate under the article: Vietnamese too, about other things.
        let page = try Fixture.text("page.vi.nato-spokesperson.txt")
        let other = String(page[page.range(of: "Các tin bài khác")!.lowerBound...])
        let english = try Fixture.article("article.en.nato-mission.txt").text
        let a = SimHash.fingerprint(of: seed.text)
        let d1 = SimHash.distance(a, SimHash.fingerprint(of: other))
        let d2 = SimHash.distance(a, SimHash.fingerprint(of: english))
        #expect(d1 >= 20, "distance \(d1)")
        #expect(d2 >= 20, "distance \(d2)")
    }

    @Test func sameTextIsIdenticalAndHashesAreStable() {
        let a = SimHash.fingerprint(of: "Nga thông báo đình chỉ hoạt động phái bộ ngoại giao")
        #expect(a == SimHash.fingerprint(of: "Nga  thông báo đình chỉ hoạt động, phái bộ ngoại giao!"))
        // Fixed hashes, no per-process seed: the same value on every run and host.
        #expect(SimHash.hex(a) == "5ff1e30091d92a41")
    }

    @Test func hexAndDistanceOfStrings() {
        #expect(SimHash.hex(0) == "0000000000000000")
        #expect(SimHash.hex(0xff) == "00000000000000ff")
        #expect(SimHash.distance("00000000000000ff", "0000000000000000") == 8)
        #expect(SimHash.distance("xyz", "0000000000000000") == nil)
    }

    @Test func contentHashNormalizesSpaceAndUnicodeForm() {
        let nfc = "Nga thông báo"
        let nfd = nfc.decomposedStringWithCanonicalMapping
        #expect(Array(nfd.unicodeScalars) != Array(nfc.unicodeScalars))
        let base = ContentHash.of(title: "Tiêu đề", text: "Nga thông báo\n\nNATO phản ứng")
        #expect(base == ContentHash.of(title: " Tiêu  đề ", text: nfd + "  NATO\tphản ứng\n"))
        #expect(base != ContentHash.of(title: "Tiêu đề", text: "Nga thông báo\n\nNATO phản ứng."))
        // Title and text cannot trade words.
        #expect(ContentHash.of(title: "a b", text: "c") != ContentHash.of(title: "a", text: "b c"))
        // Singletons NFC replaces: the Ohm sign and Greek oxia forms.
        #expect(ContentHash.normalize("100 \u{2126} \u{1F71}") == "100 \u{03A9} \u{03AC}")
        #expect(ContentHash.normalize("\u{00A0}Nga\u{3000}\u{2028}NATO ") == "Nga NATO")
        // SHA-256 of "\n" (empty title and text).
        #expect(ContentHash.of(title: "", text: "") == "01ba4719c80b6fe911b091a7c05124b64eeece964e09c058ef8f9805daca546b")
    }

    @Test("the vertical bit counter counts each bit as adding bit by bit does")
    func bitCountsMatchCountingBitByBit() {
        var generator = SystemRandomNumberGenerator()
        // Sparse, dense and plain random words, and counts that pass powers of two.
        for count in [0, 1, 2, 3, 7, 8, 255, 256, 257, 1_000, 4_097] {
            var counts = SimHash.BitCounts()
            var naive = [Int](repeating: 0, count: 64)
            for n in 0..<count {
                let word: UInt64 =
                    switch n % 3 {
                    case 0: generator.next()
                    case 1: generator.next() & generator.next() & generator.next()
                    default: generator.next() | generator.next()
                    }
                counts.add(word)
                for bit in 0..<64 where (word >> UInt64(bit)) & 1 == 1 { naive[bit] += 1 }
            }
            #expect(counts.words == count)
            #expect((0..<64).map { counts.count(at: $0) } == naive, "\(count) words")
        }
    }
}
