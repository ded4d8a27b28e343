import Glibc
import RunnelProtocol

/// The words, in several languages, that tell site furniture from the article.
///
/// Class and id values are matched word by word (`nav`, `ad`, `tags`) and, with their separators
/// removed, by substring (`tin-lien-quan` → `tinlienquan`, `most_read` → `mostread`). Section
/// labels ("Tin bài liên quan", "Most read") are matched on the normalized text of short blocks.
enum Vocabulary {
    // MARK: Class and id words

    /// Substrings of the compacted class/id that mark text that is never the article.
    static let boilerplateSubstrings = [
        "comment", "disqus", "related", "relate", "sharing", "sharebar", "sharetool", "socialshare", "social",
        "cookie", "consent", "gdpr", "newsletter", "subscribe", "subscription", "tinlienquan", "lienquan",
        "docnhieu", "xemnhieu", "tinkhac", "cactin", "tinmoi", "tinnoibat", "tincungchuyenmuc", "mostread",
        "mostpopular", "mostviewed", "popular", "trending", "recommend", "outbrain", "taboola", "advert", "sponsor", "promo", "popup", "signup", "seealso", "xemthem", "docthem",
        "readmore", "readalso", "alsoread", "morenews", "morestories", "othernews", "multimedia", "binhluan",
        "ykien", "authorbio", "aboutauthor", "authorbox", "tagcloud", "taglist", "articletags", "posttags",
        "keyword", "tukhoa", "printbutton", "rating", "ratings", "newsticker", "ticker", "banner", "adsense",
        "dfp", "googlead", "shareicons", "sharelinks", "follow", "relatedposts", "productreviews", "customerreviews",
        "legalnotice", "legalnote", "notaprawna", "copyright",
    ]
    /// Whole class/id words that mark text that is never the article.
    static let boilerplateWordList: Set<String> = [
        "share", "shares", "ad", "ads", "adv", "tags", "tag", "login", "print", "modal", "sns",
        "hidden-print", "tools", "toolbar", "utility", "meta-share",
    ]
    /// Substrings naming a list of links (``Hints/linkList``): a table of contents, a breadcrumb
    /// trail, page numbers.
    static let linkListSubstrings = ["breadcrumb", "pagination", "pager", "jumplink"]
    /// Whole words naming a list of links.
    static let linkListWordList: Set<String> = ["toc"]
    /// Substrings of site furniture: excluded unless the element also looks like a layout wrapper.
    static let furnitureSubstrings = [
        "footer", "sidebar", "navbar", "navigation", "menu", "masthead", "skiplink", "topbar", "header-",
        "siteheader", "site-header", "subnav", "mainnav", "topnav",
    ]
    /// Whole words of site furniture.
    static let furnitureWordList: Set<String> = ["nav", "aside", "foot", "rss", "rightcol", "leftcol"]
    /// Substrings of layout wrappers that may hold the article (readability's "maybe candidate").
    static let layoutSubstrings = ["content", "main", "article", "body", "column", "shadow", "entry", "story"]
    /// Substrings that suggest the article itself.
    static let positiveSubstrings = [
        "article", "content", "entry", "hentry", "main", "post", "text", "blog", "story", "detail", "chitiet",
        "noidung", "fckdetail", "body", "news", "bai-viet", "baiviet",
    ]
    static let commentSubstrings = ["comment", "disqus", "binhluan", "ykien"]
    static let relatedSubstrings = [
        "related", "relate", "tinlienquan", "lienquan", "seealso", "xemthem", "docthem", "readalso", "alsoread",
    ]
    static let captionSubstrings = [
        "caption", "chuthich", "imagedesc", "imgdesc", "photodesc", "picdesc", "photocaption", "credit",
        "imgcaption", "figcaption", "expnoedit", "picturedesc",
    ]
    static let bylineSubstrings = ["byline", "author", "tacgia", "writer", "reporter"]
    static let dateSubstrings = ["date", "time", "publish", "posted", "ngaydang", "dateline"]
    /// What a rights notice says beside "©" or "copyright", lower-cased.
    static let rightsReserved = [
        "all rights reserved", "all right reserved", "registered trademark", "alle rechte vorbehalten",
        "tous droits réservés", "todos los derechos reservados", "tutti i diritti riservati",
    ]
    static let hiddenWordList: Set<String> = ["hidden", "d-none", "sr-only", "visually-hidden", "screen-reader-text", "hide"]

    /// The hints carried by a `class` + `id` value (any case).
    ///
    /// The value is read word by word (words split on ASCII whitespace). A word holding `[`, `:`
    /// or `&` is a utility-class variant (`[&_figcaption]:mt-xs`, `lg:hidden`) that describes
    /// descendants or breakpoints, not the element, and is ignored whole. Each other word, lower
    /// cased, is matched whole and by its parts (the runs between non-alphanumeric ASCII bytes)
    /// against the word lists, and with its separators removed against the substring lists. In
    /// `tag-<slug>` and `category-<slug>` the first part names a post's taxonomy term (WordPress
    /// and Squarespace put them on the post itself), not a list of tags, so it is not matched.
    static func hints(forClassAndID value: String) -> Hints {
        var words = HashedNameTable<Hints?>(empty: nil)
        return hints(forClassAndID: value, words: &words)
    }

    /// ``hints(forClassAndID:)``, with the hints of each word kept in `words` (by the FNV-1a hash
    /// of its bytes) for the next value: a page repeats its class words far more than its whole
    /// class values. Two words with one hash would share their hints.
    static func hints(forClassAndID value: String, words: inout HashedNameTable<Hints?>) -> Hints {
        var value = value
        return value.withUTF8 { hints(forClassAndID: $0, words: &words) }
    }

    /// ``hints(forClassAndID:words:)`` of a value's UTF-8 bytes.
    static func hints(forClassAndID bytes: UnsafeBufferPointer<UInt8>, words: inout HashedNameTable<Hints?>) -> Hints {
        // One scratch buffer for a word, lower-cased, and its alphanumeric bytes: no
        // allocation per value (the walk asks for every class and id of a page).
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 2 * bytes.count + 2) { scratch in
            var hints: Hints = []
            var start = 0
            while start < bytes.count {
                while start < bytes.count && isSpace(bytes[start]) { start += 1 }
                var end = start
                var variant = false
                while end < bytes.count && !isSpace(bytes[end]) {
                    let byte = bytes[end]
                    if byte == 0x5B || byte == 0x3A || byte == 0x26 { variant = true }
                    end += 1
                }
                if start < end && !variant {
                    let word = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    let key = FNV1a.hash(word)
                    if let known = words[key] {
                        hints.formUnion(known)
                    } else {
                        let found = wordHints(word, scratch: scratch)
                        words[key] = found
                        hints.formUnion(found)
                    }
                }
                start = end
            }
            return hints
        }
    }

    /// The hints of one class or id word (no whitespace, not a utility variant); `scratch` holds
    /// at least twice its length.
    private static func wordHints(_ word: UnsafeBufferPointer<UInt8>, scratch: UnsafeMutableBufferPointer<UInt8>) -> Hints {
        let count = word.count
        let lower = UnsafeMutableBufferPointer(rebasing: scratch[0..<count])
        let compact = UnsafeMutableBufferPointer(rebasing: scratch[count..<2 * count])
        var compactCount = 0
        for index in 0..<count {
            var byte = word[index]
            if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
            lower[index] = byte
            if isAlphanumeric(byte) {
                compact[compactCount] = byte
                compactCount += 1
            }
        }
        let whole = UnsafeBufferPointer(lower)
        var hints: Hints = []
        if hiddenWords.contains(whole) { hints.insert(.hidden) }
        func matchWords(_ part: UnsafeBufferPointer<UInt8>) {
            if boilerplateWords.contains(part) { hints.insert(.boilerplate) }
            if furnitureWords.contains(part) { hints.insert(.furniture) }
            if linkListWords.contains(part) { hints.insert(.linkList) }
        }
        matchWords(whole)
        // The parts; the first is passed over when it names a taxonomy and another part follows.
        var parts = Parts(whole)
        if let first = parts.next() {
            let second = parts.next()
            if second == nil || !taxonomyPrefixes.contains(first) { matchWords(first) }
            if let second { matchWords(second) }
            while let part = parts.next() { matchWords(part) }
        }
        // Every substring pattern, found in one pass: a position is tried only when some pattern
        // starts with its two bytes.
        let letters = UnsafeBufferPointer(rebasing: compact[0..<compactCount])
        patterns.forEachMatch(in: letters, skipping: hints) { hints.insert($0) }
        return hints
    }

    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// Lower-case ASCII letters and digits, and every byte of a non-ASCII character.
    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte >= 0x80
    }

    /// The runs of alphanumeric bytes of a lower-cased word.
    private struct Parts {
        let word: UnsafeBufferPointer<UInt8>
        var index = 0

        init(_ word: UnsafeBufferPointer<UInt8>) { self.word = word }

        mutating func next() -> UnsafeBufferPointer<UInt8>? {
            while index < word.count && !isAlphanumeric(word[index]) { index += 1 }
            guard index < word.count else { return nil }
            let start = index
            while index < word.count && isAlphanumeric(word[index]) { index += 1 }
            return UnsafeBufferPointer(rebasing: word[start..<index])
        }
    }

    private static let hiddenWords = ByteWords(hiddenWordList)
    private static let boilerplateWords = ByteWords(boilerplateWordList)
    private static let furnitureWords = ByteWords(furnitureWordList)
    private static let linkListWords = ByteWords(linkListWordList)
    private static let taxonomyPrefixes = ByteWords(["tag", "category"])

    /// A short list of lower-case words, compared byte for byte with no hashing or allocation.
    struct ByteWords: Sendable {
        private let words: [[UInt8]]
        /// Bit `n` is set when a word has `n` bytes (every word is shorter than 64).
        private let lengths: UInt64

        init(_ list: some Sequence<String>) {
            words = list.map { Array($0.utf8) }
            precondition(words.allSatisfy { $0.count < 64 }, "a listed word is shorter than 64 bytes")
            lengths = words.reduce(0) { $0 | 1 << UInt64($1.count) }
        }

        func contains(_ word: UnsafeBufferPointer<UInt8>) -> Bool {
            guard word.count < 64, lengths & 1 << UInt64(word.count) != 0 else { return false }
            return words.contains { $0.count == word.count && $0.withUnsafeBufferPointer { memcmp($0.baseAddress!, word.baseAddress!, word.count) == 0 } }
        }
    }

    /// The substring patterns, each with the hint it gives.
    private static let patterns = SubstringPatterns([
        (boilerplateSubstrings, .boilerplate), (linkListSubstrings, .linkList), (furnitureSubstrings, .furniture),
        (layoutSubstrings, .layout), (positiveSubstrings, .positive), (relatedSubstrings, .related),
        (commentSubstrings, .comments), (captionSubstrings, .caption), (bylineSubstrings, .byline),
        (dateSubstrings, .date), (["articlebody", "postbody", "entrycontent", "fckdetail", "articlecontent"], .articleBody),
    ])

    /// Substring patterns (their `-` and `_` removed, as in the text they are matched against)
    /// stored in one byte array, indexed by first byte, with a table of the two-byte pairs that
    /// start any of them, so that most positions of a text are passed over after one lookup.
    struct SubstringPatterns: Sendable {
        private struct Pattern {
            let start: Int
            let count: Int
            let hint: Hints
        }
        private let bytes: [UInt8]
        /// The patterns, sorted by first byte; those starting with byte `b` are
        /// `patterns[firstIndex[b]..<firstIndex[b + 1]]`.
        private let patterns: [Pattern]
        private let firstIndex: [Int]
        /// Bit `a << 8 | b` is set when some pattern starts with the bytes `a`, `b`.
        private let pairs: [UInt64]

        init(_ groups: [([String], Hints)]) {
            var list: [([UInt8], Hints)] = []
            for (words, hint) in groups {
                for word in words {
                    let pattern = Array(word.utf8.filter { $0 != 0x2D && $0 != 0x5F })
                    precondition(pattern.count >= 2, "a substring pattern has at least two bytes")
                    list.append((pattern, hint))
                }
            }
            // A stable sort keeps each first byte's patterns in the order they are listed.
            list = list.enumerated().sorted { ($0.element.0[0], $0.offset) < ($1.element.0[0], $1.offset) }.map(\.element)
            var bytes: [UInt8] = []
            var patterns: [Pattern] = []
            var firstIndex = [Int](repeating: list.count, count: 257)
            var pairs = [UInt64](repeating: 0, count: 65536 / 64)
            for (pattern, hint) in list {
                let first = Int(pattern[0])
                firstIndex[first] = min(firstIndex[first], patterns.count)
                patterns.append(Pattern(start: bytes.count, count: pattern.count, hint: hint))
                bytes.append(contentsOf: pattern)
                let pair = first << 8 | Int(pattern[1])
                pairs[pair >> 6] |= 1 << UInt64(pair & 63)
            }
            // A first byte no pattern starts with gets the next byte's start: an empty range.
            for byte in stride(from: 255, through: 0, by: -1) where firstIndex[byte] > firstIndex[byte + 1] {
                firstIndex[byte] = firstIndex[byte + 1]
            }
            self.bytes = bytes
            self.patterns = patterns
            self.firstIndex = firstIndex
            self.pairs = pairs
        }

        /// Calls `found` with the hint of every pattern found in `text` whose hint is not yet in
        /// `known` (nor found before).
        func forEachMatch(in text: UnsafeBufferPointer<UInt8>, skipping known: Hints, _ found: (Hints) -> Void) {
            var known = known
            guard text.count >= 2 else { return }
            bytes.withUnsafeBufferPointer { bytes in
                patterns.withUnsafeBufferPointer { patterns in
                    for position in 0..<text.count - 1 {
                        let first = Int(text[position])
                        let pair = first << 8 | Int(text[position + 1])
                        guard pairs[pair >> 6] & (1 << UInt64(pair & 63)) != 0 else { continue }
                        for pattern in patterns[firstIndex[first]..<firstIndex[first + 1]] where !known.contains(pattern.hint) {
                            guard position + pattern.count <= text.count else { continue }
                            if memcmp(bytes.baseAddress! + pattern.start, text.baseAddress! + position, pattern.count) == 0 {
                                known.insert(pattern.hint)
                                found(pattern.hint)
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Section labels

    /// What a short heading-like line announces.
    enum Label: Sendable, Equatable {
        /// The page's related articles ("Tin bài liên quan", "Related").
        case related
        /// Another list or site section ("Đọc nhiều", "Most read", "Comments").
        case boilerplate
    }

    static let relatedLabels = [
        "tin bài liên quan", "tin liên quan", "bài liên quan", "bài viết liên quan", "related", "related articles",
        "related stories", "related news", "related posts", "related content", "related coverage", "read also",
        "read more", "see also", "also read", "xem thêm", "đọc thêm", "more on this", "more on this story",
        "читайте также", "по теме", "смотрите также", "相关新闻", "相关阅读", "相關新聞", "相关文章", "延伸阅读",
        "czytaj także", "czytaj też", "zobacz także", "zobacz też", "powiązane", "σχετικά άρθρα", "διαβάστε επίσης",
        "σχετικά",
    ]
    static let boilerplateLabels = [
        "các tin bài khác", "các tin khác", "tin khác", "tin cùng chuyên mục", "đọc nhiều", "xem nhiều",
        "tin mới", "tin mới nhất", "tin nổi bật", "multimedia", "bình luận", "ý kiến bạn đọc", "chia sẻ",
        "từ khóa", "tags", "tag", "quảng cáo", "most read", "most popular", "most viewed", "popular", "trending",
        "more stories", "more news", "latest news", "latest", "top stories", "comments", "comment", "share",
        "share this", "share this article", "share this story", "advertisement", "newsletter", "recommended",
        "recommended for you", "you may also like", "you might also like", "editor's picks", "follow us",
        "sign up", "subscribe", "leave a comment", "leave a reply", "more from", "popular posts", "recent posts",
        "самое читаемое", "популярное", "комментарии", "热门新闻", "热点新闻", "评论", "najpopularniejsze",
        "komentarze", "δημοφιλή", "σχόλια",
    ]

    private static let labelLengths = Set((relatedLabels + boilerplateLabels).map(\.utf8.count))
    private static let relatedLabelSet = Set(relatedLabels)
    private static let boilerplateLabelSet = Set(boilerplateLabels)

    /// The label a short line announces, if it is one of the known section labels.
    static func label(of text: String) -> Label? {
        // Cheap rejection first: a label is short, and its length (give or take trailing
        // punctuation) is one of the known labels' lengths.
        let count = text.utf8.count
        guard count <= 64, (0...3).contains(where: { labelLengths.contains(count - $0) }) || text.utf8.first.map({ $0 >= 0x80 || $0 == 0x20 || $0 == 0x3E }) == true
        else { return nil }
        var key = text.lowercased()
        while let last = key.last, last == ":" || last == " " || last == "»" || last == ">" || last == "›" {
            key.removeLast()
        }
        while let first = key.first, first == " " || first == "»" || first == "•" { key.removeFirst() }
        if relatedLabelSet.contains(key) { return .related }
        if boilerplateLabelSet.contains(key) { return .boilerplate }
        return nil
    }
}
