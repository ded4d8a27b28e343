import Foundation
import StoreStage
import Testing

@Suite struct TextFoldingTests {
    @Test(arguments: [
        ("phái bộ ngoại giao", "phai bo ngoai giao"),
        ("Matxcơva", "matxcova"),
        ("Đà Nẵng", "da nang"),
        ("ĐẠI HỘI Đảng", "dai hoi dang"),
        ("người được ưỡn", "nguoi duoc uon"),
        ("Crème Brûlée", "creme brulee"),
        ("Москва́", "москва"),
        ("Ἀθῆναι", "αθηναι"),
        ("한국어 中文", "한국어 中文"),
    ])
    func foldsMarksCaseAndStroke(input: String, expected: String) {
        #expect(TextFolding.fold(input) == expected)
        if !input.unicodeScalars.contains(where: { (0xAC00...0xD7AF).contains($0.value) }) {
            #expect(TextFolding.fold(input.decomposedStringWithCanonicalMapping) == expected)
        }
    }

    @Test func tokensKeepTheirOriginalRanges() {
        let text = "“Phái bộ” tại Matxcơva, năm 2014."
        let tokens = TextFolding.tokens(text)
        #expect(tokens.map(\.folded) == ["phai", "bo", "tai", "matxcova", "nam", "2014"])
        #expect(tokens.map { String(text[$0.range]) } == ["Phái", "bộ", "tại", "Matxcơva", "năm", "2014"])
    }

    @Test func fingerprintIgnoresWhitespaceAndNormalizationButNotWords() {
        let a = ContentFingerprint.of(title: "Tin", text: "Phái bộ\n\nngoại giao.")
        #expect(a.count == 16)
        #expect(a == ContentFingerprint.of(title: " Tin ", text: "Phái  bộ ngoại\tgiao.".decomposedStringWithCanonicalMapping))
        #expect(a != ContentFingerprint.of(title: "Tin", text: "Phái bộ ngoại giao!"))
        #expect(a != ContentFingerprint.of(title: "Tin mới", text: "Phái bộ\n\nngoại giao."))
        // FNV-1a 64 of "\n" alone (empty title, empty text) — pins the algorithm.
        #expect(ContentFingerprint.of(title: "", text: "") == "af63c74c8601c8dd")
    }

    /// The fingerprint as Protocol/STORE.md states it, written plainly: FNV-1a 64 over
    /// NFC(title) and NFC(text), whitespace runs as one space, ends trimmed, joined by a newline.
    @Test("the fingerprint is the documented rule, marks anywhere in title or text")
    func fingerprintFollowsTheRule() {
        func normalize(_ part: String) -> [UInt8] {
            let spaces: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D, 0x0B, 0x0C]
            let words = Array(part.precomposedStringWithCanonicalMapping.utf8).split { spaces.contains($0) }
            return Array(words.joined(separator: [0x20]))
        }
        func reference(_ title: String, _ text: String) -> String {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in normalize(title) + [0x0A] + normalize(text) { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            let hex = String(hash, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }
        let pieces = [
            "Phái", "bộ", "e\u{0301}", "\u{0301}", "  ", "\n\t", "\u{0B}\u{0C}\r", "\u{07}", "ngoại", "giao.", "\u{1100}\u{1161}",
            "x\u{20D0}", "東京", "€", "Ωщ", "\u{FE0F}", "ĐẾN", "",
        ]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            let title = (0..<Int.random(in: 0...4, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let text = (0..<Int.random(in: 0...30, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
                .joined(separator: Bool.random(using: &generator) ? " " : "")
            #expect(ContentFingerprint.of(title: title, text: text) == reference(title, text), "\(title) | \(text)")
        }
    }
}
