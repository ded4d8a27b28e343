import Foundation

extension WebURL {
    /// The standard's "domain to ASCII" with `beStrict` false: an ASCII domain is lower-cased; a
    /// domain with non-ASCII labels is mapped and each such label written as `xn--` punycode.
    ///
    /// This approximates UTS 46 processing (non-transitional, CheckHyphens and
    /// UseSTD3ASCIIRules off) without its mapping table, which Foundation does not expose:
    /// - mapping is Unicode lower-casing plus NFKC (`precomposedStringWithCompatibilityMapping`),
    ///   with the ideographic full stop U+3002 read as `.` and the default-ignorable code points
    ///   UTS 46 deletes (soft hyphen, zero-width space, variation selectors…) removed. For the
    ///   letters news hosts use (`bücher.de`, `đài.vn`, `ÉCOLE.fr`) that is what UTS 46 gives;
    ///   it differs for a few code points UTS 46 maps otherwise (final sigma, `ß` is kept as is).
    /// - validity is approximated: unassigned, control, format (ZWJ/ZWNJ included, so the
    ///   CheckJoiners exceptions after a virama are not made), private-use and separator code
    ///   points, U+FFFD, and a label starting with a combining mark are refused; CheckBidi is not
    ///   applied.
    /// - an `xn--` label must decode as Punycode to a non-ASCII label that the mapping leaves as it
    ///   is (so no upper case, nothing NFKC changes).
    ///
    /// - Returns: the ASCII domain, or nil when the domain is not valid.
    static func domainToASCII(_ domain: String) -> String? {
        if domain.unicodeScalars.allSatisfy(\.isASCII) {
            let lowered = String(String.UnicodeScalarView(domain.unicodeScalars.map(\.asciiLowercased)))
            for label in lowered.split(separator: ".", omittingEmptySubsequences: false) where label.hasPrefix("xn--") {
                guard isValidPunycodeLabel(label) else { return nil }
            }
            return lowered.isEmpty ? nil : lowered
        }

        var mapped = String.UnicodeScalarView()
        for scalar in domain.unicodeScalars {
            if scalar == "\u{3002}" {
                mapped.append(".")
            } else if !isIgnoredByUTS46(scalar) {
                mapped.append(scalar)
            }
        }
        let normalized = map(String(mapped))
        var labels: [String] = []
        for label in normalized.split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                if label.hasPrefix("xn--") {
                    guard isValidPunycodeLabel(label) else { return nil }
                }
                labels.append(String(label))
                continue
            }
            let scalars = Array(label.unicodeScalars)
            guard isValidUnicodeLabel(scalars), let encoded = Punycode.encode(scalars) else { return nil }
            labels.append("xn--" + encoded)
        }
        let result = labels.joined(separator: ".")
        return result.isEmpty ? nil : result
    }

    /// An `xn--` label: valid Punycode for a non-ASCII label that is valid and in NFC.
    private static func isValidPunycodeLabel(_ label: Substring) -> Bool {
        guard let decoded = Punycode.decode(label.dropFirst(4)), !decoded.isEmpty,
            !decoded.allSatisfy(\.isASCII), isValidUnicodeLabel(decoded)
        else { return false }
        let text = String(String.UnicodeScalarView(decoded))
        return map(text).unicodeScalars.elementsEqual(decoded)
    }

    /// The mapping step: Unicode lower case and NFKC, until stable.
    private static func map(_ text: String) -> String {
        text.lowercased().precomposedStringWithCompatibilityMapping.lowercased().precomposedStringWithCanonicalMapping
    }

    private static func isValidUnicodeLabel(_ scalars: [Unicode.Scalar]) -> Bool {
        if let first = scalars.first {
            switch first.properties.generalCategory {
            case .nonspacingMark, .spacingMark, .enclosingMark: return false
            default: break
            }
        }
        return scalars.allSatisfy { scalar in
            if scalar.isASCII { return true }
            if scalar == "\u{FFFD}" || scalar.properties.isNoncharacterCodePoint { return false }
            switch scalar.properties.generalCategory {
            case .unassigned, .control, .format, .privateUse, .surrogate, .spaceSeparator, .lineSeparator,
                .paragraphSeparator:
                return false
            default:
                return true
            }
        }
    }

    /// Code points UTS 46 maps to nothing: soft hyphen, combining grapheme joiner, Mongolian
    /// variation selectors, zero-width space, word joiner, variation selectors, BOM.
    private static func isIgnoredByUTS46(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x00AD, 0x034F, 0x180B...0x180F, 0x200B, 0x2060, 0xFE00...0xFE0F, 0xFEFF, 0xE0100...0xE01EF: true
        default: false
        }
    }
}
