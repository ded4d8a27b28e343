import Foundation
import Testing

@testable import StoreStage

/// `TextFolding.fold` and `ContentFingerprint.mayHoldMarks` read UTF-8 bytes; these check them
/// against their definitions, one scalar at a time, over every scalar Unicode has.
@Suite struct TextFoldingScalarTests {
    /// What `fold` does to one scalar, as its documentation defines it.
    static func definedFold(_ scalar: Unicode.Scalar) -> String {
        let v = scalar.value
        if v < 0x80 { return String(scalar).lowercased() }
        if (0x3000...0xD7FF).contains(v) { return String(scalar) }
        guard v < 0x2000 else { return scalar.properties.lowercaseMapping }
        if (0x0300...0x036F).contains(v) { return "" }
        if [0x0110, 0x0111, 0x0189, 0x0256].contains(v) { return "d" }
        return String(scalar).decomposedStringWithCanonicalMapping.unicodeScalars
            .filter { !(0x0300...0x036F).contains($0.value) }
            .map(\.properties.lowercaseMapping).joined()
    }

    static let allScalars: [Unicode.Scalar] = (0...0x10FFFF).compactMap(Unicode.Scalar.init)

    @Test func foldsEveryScalarAsDefined() {
        var mismatches: [String] = []
        for scalar in Self.allScalars {
            let folded = TextFolding.fold("A" + String(scalar) + "z")
            if folded != "a" + Self.definedFold(scalar) + "z" { mismatches.append(String(scalar.value, radix: 16)) }
        }
        #expect(mismatches.isEmpty, "U+\(mismatches.prefix(20))")
    }

    @Test func foldsAWholeTextAsItsScalars() {
        // Every scalar below U+3000 and a sample above, in one string and in runs of mixed lengths.
        let scalars = Self.allScalars.filter { $0.value < 0x3000 || $0.value % 97 == 0 }
        let text = String(String.UnicodeScalarView(scalars))
        #expect(TextFolding.fold(text) == scalars.map(Self.definedFold).joined())
        let long = String(repeating: "Ồ ΐ ᾂ İ ǅ ﬃ ೋ Ω 𐐀 ", count: 2_000)
        #expect(TextFolding.fold(long) == long.unicodeScalars.map(Self.definedFold).joined())
    }

    @Test func foldsASCIIRunsAtEveryOffset() {
        // Runs of ASCII go eight bytes at a time: every ASCII byte, upper and lower case, with the
        // run starting at each offset after a scalar that is not ASCII.
        let ascii = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        let lowered = ascii.lowercased()
        for offset in 0..<9 {
            let lead = "é" + String(repeating: "X", count: offset)
            let text = lead + ascii + ascii.uppercased() + "Ồ" + ascii + "Đ"
            let expected = "e" + String(repeating: "x", count: offset) + lowered + lowered + "o" + lowered + "d"
            #expect(TextFolding.fold(text) == expected, "offset \(offset)")
        }
    }

    @Test func findsEveryScalarThatNeedsNormalizing() {
        let marks: [ClosedRange<UInt32>] = [
            0x0300...0x036F, 0x1100...0x11FF, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x20D0...0x20FF, 0xFE20...0xFE2F,
        ]
        var mismatches: [UInt32] = []
        for scalar in Self.allScalars {
            var text = "plain ascii " + String(scalar) + " é"
            let found = text.withUTF8(ContentFingerprint.mayHoldMarks)
            if found != marks.contains(where: { $0.contains(scalar.value) }) { mismatches.append(scalar.value) }
        }
        #expect(mismatches.isEmpty, "U+\(mismatches.prefix(20).map { String($0, radix: 16) })")
    }
}
