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
}
