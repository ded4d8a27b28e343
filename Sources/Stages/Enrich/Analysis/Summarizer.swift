/// An extractive summary: the article's lead sentences, bounded in number and length.
///
/// News puts what matters first, so the summary is the first sentences that are real sentences
/// (at least 4 words, or 8 characters in Chinese and Japanese), up to `sentences` of them and
/// `maxCharacters` in all. A first sentence longer than the bound is cut at a word boundary
/// and ends with `…`.
struct Summarizer: Sendable {
    /// How many sentences at most.
    var sentences: Int
    /// How many characters (Unicode scalars) at most.
    var maxCharacters: Int

    /// The summary of `text`, or "" when it has no sentence.
    func summarize(_ text: TokenizedText) -> String {
        var parts: [String] = []
        var length = 0
        for sentence in text.sentences {
            guard parts.count < sentences else { break }
            let tokens = text.tokens[sentence]
            let words = tokens.reduce(0) { $0 + ($1.isCountable ? 1 : 0) }
            let ideographic = tokens.contains { $0.kind == .ideograph }
            guard words >= (ideographic ? 8 : 4) else { continue }
            let string = text.string(sentence: sentence)
            let count = string.unicodeScalars.count
            if parts.isEmpty && count > maxCharacters {
                return truncate(string)
            }
            let joinerLength = parts.isEmpty || ideographic ? 0 : 1
            if length + joinerLength + count > maxCharacters { break }
            parts.append(string)
            length += joinerLength + count
        }
        var summary = ""
        for part in parts {
            if !summary.isEmpty, let first = part.unicodeScalars.first, !first.isUnspacedIdeograph,
                !(summary.unicodeScalars.last.map { $0.value >= 0x3000 } ?? false)
            {
                summary += " "
            }
            summary += part
        }
        return summary
    }

    private func truncate(_ string: String) -> String {
        let scalars = Array(string.unicodeScalars.prefix(max(1, maxCharacters - 1)))
        var end = scalars.count
        if let space = scalars.lastIndex(where: \.isSpace), space > scalars.count / 2 { end = space }
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars[..<end])
        return String(view).trimmingSpaces() + "…"
    }
}
