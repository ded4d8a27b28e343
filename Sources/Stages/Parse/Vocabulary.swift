import Synchronization

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
        "dfp", "googlead", "shareicons", "sharelinks", "follow", "relatedposts",
    ]
    /// Whole class/id words that mark text that is never the article.
    static let boilerplateWords: Set<String> = [
        "share", "shares", "ad", "ads", "adv", "tags", "tag", "login", "print", "modal", "sns",
        "hidden-print", "tools", "toolbar", "utility", "meta-share",
    ]
    /// Substrings naming a list of links (``Hints/linkList``): a table of contents, a breadcrumb
    /// trail, page numbers.
    static let linkListSubstrings = ["breadcrumb", "pagination", "pager", "jumplink"]
    /// Whole words naming a list of links.
    static let linkListWords: Set<String> = ["toc"]
    /// Substrings of site furniture: excluded unless the element also looks like a layout wrapper.
    static let furnitureSubstrings = [
        "footer", "sidebar", "navbar", "navigation", "menu", "masthead", "skiplink", "topbar", "header-",
        "siteheader", "site-header", "subnav", "mainnav", "topnav",
    ]
    /// Whole words of site furniture.
    static let furnitureWords: Set<String> = ["nav", "aside", "foot", "rss", "rightcol", "leftcol"]
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
    static let hiddenWords: Set<String> = ["hidden", "d-none", "sr-only", "visually-hidden", "screen-reader-text", "hide"]

    /// Hints of class/id values seen before, shared by every page the process parses (pages of one
    /// site repeat their classes). Cleared when it grows past 50,000 values.
    private static let cache = Mutex<[String: Hints]>([:])

    /// ``hints(forClassAndID:)``, remembered across pages.
    static func cachedHints(forClassAndID value: String) -> Hints {
        if let known = cache.withLock({ $0[value] }) { return known }
        let hints = hints(forClassAndID: value)
        cache.withLock { table in
            if table.count >= 50_000 { table.removeAll(keepingCapacity: true) }
            table[value] = hints
        }
        return hints
    }

    /// The hints carried by a `class` + `id` value (any case).
    static func hints(forClassAndID value: String) -> Hints {
        var hints: Hints = []
        // Lower-cased ASCII bytes; words split on whitespace; parts split on `-` and `_`;
        // `compact` is every word with its non-alphanumerics removed, words separated by a space.
        var compact: [UInt8] = []
        // Words and their `-`/`_` parts, as ranges of `lower` (the lower-cased value).
        var lower: [UInt8] = []
        var words: [Range<Int>] = []
        var parts: [Range<Int>] = []
        var wordStart = 0
        var partStart = 0
        compact.reserveCapacity(value.utf8.count)
        lower.reserveCapacity(value.utf8.count)
        func endPart() {
            if partStart < lower.count { parts.append(partStart..<lower.count) }
        }
        func endWord() {
            endPart()
            // `tag-<slug>` and `category-<slug>` name a post's taxonomy terms (WordPress and
            // Squarespace put them on the post itself), not a list of tags.
            if let first = parts.firstIndex(where: { $0.lowerBound >= wordStart }), first + 1 < parts.count,
                Self.matches(lower[parts[first]], taxonomyPrefixBytes)
            {
                parts.remove(at: first)
            }
            if wordStart < lower.count {
                words.append(wordStart..<lower.count)
                compact.append(0x20)
            }
        }
        var skipping = false
        for var byte in value.utf8 {
            if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
            if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D {
                if skipping {
                    while let last = compact.last, last != 0x20 { compact.removeLast() }
                    lower.removeSubrange(wordStart...)
                    parts.removeAll { $0.lowerBound >= wordStart }
                    skipping = false
                } else {
                    endWord()
                }
                wordStart = lower.count
                partStart = lower.count
                continue
            }
            // Utility-class variants (`[&_figcaption]:mt-xs`, `lg:hidden`) describe descendants or
            // breakpoints, not the element: the whole word is ignored.
            if byte == 0x5B || byte == 0x3A || byte == 0x26 { skipping = true }
            let alphanumeric = (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39) || byte >= 0x80
            if alphanumeric {
                compact.append(byte)
                lower.append(byte)
            } else {
                // A separator ends a part; it stays in the word (`hidden-print`).
                endPart()
                lower.append(byte)
                partStart = lower.count
            }
        }
        if skipping {
            while let last = compact.last, last != 0x20 { compact.removeLast() }
            lower.removeSubrange(wordStart...)
            parts.removeAll { $0.lowerBound >= wordStart }
        } else {
            endWord()
        }
        func anyWord(_ table: [[UInt8]]) -> Bool {
            words.contains { Self.matches(lower[$0], table) } || parts.contains { Self.matches(lower[$0], table) }
        }
        if words.contains(where: { Self.matches(lower[$0], hiddenWordBytes) }) { hints.insert(.hidden) }
        if anyWord(boilerplateWordBytes) { hints.insert(.boilerplate) }
        if anyWord(furnitureWordBytes) { hints.insert(.furniture) }
        if anyWord(linkListWordBytes) { hints.insert(.linkList) }
        // Every substring pattern, found in one pass indexed by its first byte.
        var i = 0
        let count = compact.count
        while i < count {
            for (pattern, hint) in patternTable[Int(compact[i])] where !hints.contains(hint) {
                let n = pattern.count
                if i + n <= count {
                    var j = 1
                    while j < n && compact[i + j] == pattern[j] { j += 1 }
                    if j == n { hints.insert(hint) }
                }
            }
            i += 1
        }
        return hints
    }

    private static let hiddenWordBytes = hiddenWords.map { Array($0.utf8) }
    private static let boilerplateWordBytes = boilerplateWords.map { Array($0.utf8) }
    private static let furnitureWordBytes = furnitureWords.map { Array($0.utf8) }
    private static let taxonomyPrefixBytes = [Array("tag".utf8), Array("category".utf8)]
    private static let linkListWordBytes = linkListWords.map { Array($0.utf8) }

    /// Whether `word` is one of `table`'s words.
    private static func matches(_ word: ArraySlice<UInt8>, _ table: [[UInt8]]) -> Bool {
        table.contains { $0.count == word.count && $0.elementsEqual(word) }
    }

    private static func bytes(_ list: [String]) -> [[UInt8]] {
        list.map { Array($0.utf8.filter { $0 != 0x2D && $0 != 0x5F }) }
    }
    /// The substring patterns with the hint each gives, by first byte.
    private static let patternTable: [[([UInt8], Hints)]] = {
        var table = [[([UInt8], Hints)]](repeating: [], count: 256)
        let groups: [([String], Hints)] = [
            (boilerplateSubstrings, .boilerplate), (linkListSubstrings, .linkList), (furnitureSubstrings, .furniture), (layoutSubstrings, .layout),
            (positiveSubstrings, .positive), (relatedSubstrings, .related), (commentSubstrings, .comments), (captionSubstrings, .caption),
            (bylineSubstrings, .byline), (dateSubstrings, .date),
            (["articlebody", "postbody", "entrycontent", "fckdetail", "articlecontent"], .articleBody),
        ]
        for (list, hint) in groups {
            for pattern in bytes(list) where !pattern.isEmpty { table[Int(pattern[0])].append((pattern, hint)) }
        }
        return table
    }()
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
