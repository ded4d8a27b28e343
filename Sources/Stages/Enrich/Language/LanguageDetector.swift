import CCLD2
import RunnelProtocol

/// Says which language a text is in, with CLD2, falling back to the page's declared language
/// when CLD2 is unsure.
///
/// Confidence is CLD2's share of the text's letters in the top language (0…1), halved when CLD2
/// does not call its answer reliable. CLD2 is *unsure* when it answers "unknown", is not
/// reliable, or its confidence is below ``minimumConfidence``; then the declared language (its
/// primary subtag: `vi-VN` → `vi`) wins, with the confidence CLD2 gave that language (0 if it
/// was not among CLD2's three guesses). With neither, the code is `und` and the confidence 0.
///
/// ```swift
/// let detector = LanguageDetector()
/// detector.detect("Nga thông báo đình chỉ hoạt động phái bộ ngoại giao", declared: nil)
/// // Language(code: "vi", confidence: 0.98…)
/// ```
public struct LanguageDetector: Sendable {
    /// How many bytes of a text CLD2 reads at most.
    static let maxBytes = 64 << 10

    /// Below this confidence, CLD2's answer yields to the declared language.
    public var minimumConfidence: Double

    /// Creates a detector.
    /// - Parameter minimumConfidence: see ``minimumConfidence``; 0.5 by default.
    public init(minimumConfidence: Double = 0.5) {
        self.minimumConfidence = minimumConfidence
    }

    /// What CLD2 said, before any fallback.
    public struct Guess: Sendable, Hashable {
        /// ISO 639-1 code, or `und`.
        public var code: String
        /// 0…100.
        public var percent: Int
    }

    /// Detects the language of `text`.
    /// - Parameters:
    ///   - text: plain text (not HTML).
    ///   - declared: the language the page declares (`lang`), if any.
    public func detect(_ text: String, declared: String?) -> ArticleEnriched.Language {
        let declaredCode = declared.flatMap(Self.normalize)
        var text = text
        let result = text.withUTF8 { buffer -> ccld2_result in
            // The first 64 KB say which language it is; cut at a character boundary, since CLD2
            // answers "unknown" for a cut character.
            var length = min(buffer.count, Self.maxBytes)
            while length < buffer.count, length > 0, buffer[length] & 0xC0 == 0x80 { length -= 1 }
            var result = ccld2_result()
            buffer.withMemoryRebound(to: CChar.self) { chars in
                _ = ccld2_detect(chars.baseAddress, Int32(length), nil, &result)
            }
            return result
        }
        let guesses = Self.guesses(result)
        let reliable = result.is_reliable != 0
        let factor = reliable ? 1.0 : 0.5
        func confidence(_ guess: Guess) -> Double {
            Self.round(min(1, max(0, Double(guess.percent) / 100 * factor)))
        }
        let top = guesses.first ?? Guess(code: "und", percent: 0)
        let sure = top.code != "und" && reliable && confidence(top) >= minimumConfidence
        if sure { return .init(code: top.code, confidence: confidence(top)) }
        if let declaredCode {
            let support = guesses.first(where: { $0.code == declaredCode }).map(confidence) ?? 0
            return .init(code: declaredCode, confidence: support)
        }
        if top.code != "und" { return .init(code: top.code, confidence: confidence(top)) }
        return .init(code: "und", confidence: 0)
    }

    /// CLD2's guesses with their codes made ISO 639-1, unknowns left out.
    static func guesses(_ result: ccld2_result) -> [Guess] {
        withUnsafeBytes(of: result.top) { raw in
            let guesses = raw.bindMemory(to: ccld2_guess.self)
            return guesses.compactMap { guess in
                var guess = guess
                let code = withUnsafeBytes(of: &guess.code) { bytes in
                    String(decoding: bytes.prefix(while: { $0 != 0 }), as: UTF8.self)
                }
                guard let iso = normalize(code), guess.percent > 0 else { return nil }
                return Guess(code: iso, percent: Int(guess.percent))
            }
        }
    }

    /// Turns a language tag into an ISO 639-1 code (or the ISO 639 code CLD2 uses when there is
    /// no two-letter one): `vi-VN` → `vi`, `zh-Hant` → `zh`, `iw` → `he`. Unknown → nil.
    public static func normalize(_ tag: String) -> String? {
        let primary = tag.split(whereSeparator: { $0 == "-" || $0 == "_" }).first.map { $0.lowercased() } ?? ""
        guard (2...3).contains(primary.count), primary.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            return nil
        }
        switch primary {
        case "un", "xx", "und", "zxx", "mul": return nil
        case "iw": return "he"
        case "jw": return "jv"
        case "in": return "id"
        case "ji": return "yi"
        default: return primary
        }
    }

    private static func round(_ value: Double) -> Double {
        (value * 100).rounded() / 100
    }
}
