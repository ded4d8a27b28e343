/// Word count and reading time, right for Vietnamese, Chinese and space-separated languages.
///
/// How words are counted:
/// - **Space-separated languages** (English, Polish, Greek, Russian…): every word or number
///   token is one word; hyphenated compounds (`well-known`) are one.
/// - **Vietnamese**: every syllable is one word. Vietnamese writes each syllable apart
///   (`phái bộ ngoại giao` is two words of two syllables), and its editors and word processors
///   count syllables ("chữ"); a dictionary-based segmenter would be needed for lexical words
///   (about 1.5 syllables each).
/// - **Chinese and Japanese**: every ideograph or kana is one unit, as 字数 counts characters;
///   Latin words and numbers inside the text count one each.
///
/// Reading time uses speeds measured for silent reading (Trauzettel-Klosinski
/// and Dietz, IReST 2012): English 228 words/min, Chinese 255 characters/min, Japanese 357
/// characters/min, others by language; Vietnamese is estimated at 250 syllables/min. Text in
/// other scripts uses 200 words/min.
struct ReadingStats: Sendable, Hashable {
    /// Words (syllables for Vietnamese, characters for Chinese and Japanese).
    var wordCount: Int
    /// Seconds to read, rounded to the nearest second; 0 for an empty text.
    var readingTimeS: Int

    /// Counts the words of `text` in `language` (ISO 639-1).
    init(_ text: TokenizedText, language: String) {
        var words = 0
        var ideographs = 0
        for token in text.tokens {
            switch token.kind {
            case .word, .number: words += 1
            case .ideograph: ideographs += 1
            case .punctuation: break
            }
        }
        wordCount = words + ideographs
        let minutes = Double(words) / Self.wordsPerMinute(language)
            + Double(ideographs) / Self.charactersPerMinute(language)
        readingTimeS = Int((minutes * 60).rounded())
    }

    /// Silent reading speed in words per minute (syllables for Vietnamese).
    static func wordsPerMinute(_ language: String) -> Double {
        switch language {
        case "en": 228
        case "es": 218
        case "nl": 202
        case "sv": 199
        case "fr": 195
        case "it": 188
        case "he": 187
        case "ru", "uk": 184
        case "pt": 181
        case "sl": 180
        case "de": 179
        case "pl", "tr": 166
        case "fi": 161
        case "ar": 138
        case "vi": 250
        default: 200
        }
    }

    /// Reading speed in characters per minute for text written without spaces.
    static func charactersPerMinute(_ language: String) -> Double {
        language == "ja" ? 357 : 255
    }
}
