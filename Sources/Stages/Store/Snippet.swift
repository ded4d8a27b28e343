/// A short passage of an article around the words a search matched, cut from the original text.
///
/// The index holds folded text, so FTS5's own `snippet()` would show "phai bo" where the article
/// says "phái bộ". The store instead finds the matched words in the original text
/// (``SnippetBuilder``) and keeps the passage as segments, marked or not, for the caller to render
/// in bold on a terminal, with «» in a pipe, or as it likes.
///
/// ```swift
/// hit.snippet.render(open: "«", close: "»")  // "…thông báo của «phái» «bộ» «ngoại» «giao» Nga…"
/// ```
public struct Snippet: Sendable, Hashable, Codable {
    /// A piece of the passage.
    public struct Segment: Sendable, Hashable, Codable {
        /// The original text of this piece, newlines flattened to spaces.
        public var text: String
        /// Whether this piece is a word the query matched.
        public var isMatch: Bool

        /// A piece of a passage.
        public init(text: String, isMatch: Bool) {
            self.text = text
            self.isMatch = isMatch
        }

        enum CodingKeys: String, CodingKey {
            case text
            case isMatch = "match"
        }
    }

    /// The passage, in order; `…` marks text left out at either end.
    public var segments: [Segment]

    /// A passage made of these segments.
    public init(segments: [Segment]) {
        self.segments = segments
    }

    /// The passage with each matched word between `open` and `close`.
    public func render(open: String, close: String) -> String {
        var out = ""
        for segment in segments {
            if segment.isMatch {
                out += open + segment.text + close
            } else {
                out += segment.text
            }
        }
        return out
    }

    /// The passage without marks.
    public var plainText: String { render(open: "", close: "") }
}
