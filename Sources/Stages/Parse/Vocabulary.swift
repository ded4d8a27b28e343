import Glibc
import RunnelProtocol
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

    /// The hints of the class and id words and values met so far, kept from one page to the
    /// next: sites share their class words (`container`, `row`, `entry-content`), and a word met
    /// for the first time costs ~1,500 instructions. A walk takes the table when it starts and
    /// gives it back when it finishes; a walk running beside it starts with an empty one. A
    /// table given back with more than 65,536 entries is dropped, so memory stays bounded over
    /// any number of pages.
    enum KeptHints {
        private static let kept = Mutex<HashedNameTable<Hints?>?>(nil)
        private static let limit = 1 << 16

        static func take() -> HashedNameTable<Hints?> {
            kept.withLock { $0.take() } ?? HashedNameTable(empty: nil, capacity: 1024)
        }

        static func giveBack(_ table: HashedNameTable<Hints?>) {
            guard table.count <= limit else { return }
            kept.withLock { $0 = table }
        }
    }

    /// ``hints(forClassAndID:words:)`` of a value's UTF-8 bytes.
    ///
    /// Whole values are kept in `words` too: two in three of a page's class and id values are
    /// ones it used before (a list's items, a grid's cards). A value of one word has that word's
    /// hash and hints.
    static func hints(forClassAndID bytes: UnsafeBufferPointer<UInt8>, words: inout HashedNameTable<Hints?>) -> Hints {
        let valueKey = FNV1a.hash(bytes)
        if let known = words[valueKey] { return known }
        let hints = wordsHints(forClassAndID: bytes, words: &words)
        words[valueKey] = hints
        return hints
    }

    /// The hints of a value's words, each looked up in `words` or found and kept there.
    private static func wordsHints(forClassAndID bytes: UnsafeBufferPointer<UInt8>, words: inout HashedNameTable<Hints?>) -> Hints {
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
        func matchWords(_ part: UnsafeBufferPointer<UInt8>) { hints.formUnion(listedWords.hints(of: part)) }
        matchWords(whole)
        // The parts; the first is passed over when it names a taxonomy and another part follows.
        var parts = Parts(whole)
        if let first = parts.next() {
            let second = parts.next()
            if second == nil || !taxonomyPrefixes.contains(first) { matchWords(first) }
            if let second { matchWords(second) }
            while let part = parts.next() { matchWords(part) }
        }
        // Every substring pattern, found in one pass over the word's letters.
        let letters = UnsafeBufferPointer(rebasing: compact[0..<compactCount])
        hints.formUnion(patterns.hints(in: letters))
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
    private static let listedWords = WordHints([
        (boilerplateWordList, .boilerplate), (furnitureWordList, .furniture), (linkListWordList, .linkList),
    ])
    private static let taxonomyPrefixes = ByteWords(["tag", "category"])

    /// Whole words, each with the hints of every list that holds it, found in one lookup: a
    /// class word and each of its parts is looked up in all the lists.
    struct WordHints: Sendable {
        /// The entry of each word by the FNV-1a hash of its bytes (-1: none), in an open-addressed
        /// table: a `Dictionary` hashed the hash again with SipHash at every lookup.
        private let entries: HashedNameTable<Int>
        private let words: [[UInt8]]
        private let hints: [Hints]
        /// Bit `n` is set when a word has `n` bytes (every word is shorter than 64).
        private let lengths: UInt64

        init(_ lists: [(Set<String>, Hints)]) {
            var entries = HashedNameTable<Int>(empty: -1)
            var words: [[UInt8]] = []
            var hints: [Hints] = []
            var lengths: UInt64 = 0
            for (list, hint) in lists {
                for word in list {
                    let bytes = Array(word.utf8)
                    precondition(bytes.count < 64, "a listed word is shorter than 64 bytes")
                    let key = FNV1a.hash(bytes)
                    let entry = entries[key]
                    if entry >= 0 {
                        precondition(words[entry] == bytes, "two listed words with one hash")
                        hints[entry].formUnion(hint)
                    } else {
                        entries[key] = words.count
                        words.append(bytes)
                        hints.append(hint)
                    }
                    lengths |= 1 << UInt64(bytes.count)
                }
            }
            self.entries = entries
            self.words = words
            self.hints = hints
            self.lengths = lengths
        }

        /// The hints of `word` (lower case), none when no list holds it.
        func hints(of word: UnsafeBufferPointer<UInt8>) -> Hints {
            guard word.count < 64, lengths & 1 << UInt64(word.count) != 0, let base = word.baseAddress else { return [] }
            let entry = entries[FNV1a.hash(word)]
            guard entry >= 0, words[entry].count == word.count,
                words[entry].withUnsafeBufferPointer({ memcmp($0.baseAddress!, base, word.count) == 0 })
            else { return [] }
            return hints[entry]
        }
    }

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

    /// Substring patterns (their `-` and `_` removed, as in the text they are matched against),
    /// found all at once by an Aho–Corasick automaton: one table step per byte of the text,
    /// however many patterns there are. Each state knows the hints of every pattern that ends
    /// where it stands.
    ///
    /// The walk tries every class and id word a page has not used before, a few hundred a page.
    /// Trying each pattern that starts at a position whose first two bytes begin one cost
    /// ~2,000 instructions a word; the automaton ~5 a byte.
    struct SubstringPatterns: Sendable {
        /// Byte → column of ``next``; column 0 is every byte no pattern holds.
        private let column: [UInt8]
        private let columns: Int
        /// The state after a byte: `next[state * columns + column]`. State 0 is the start.
        private let next: [UInt16]
        /// The hints of the patterns that end at each state: its own and its suffixes'.
        private let output: [Hints]

        init(_ groups: [([String], Hints)]) {
            var column = [UInt8](repeating: 0, count: 256)
            var columns = 1
            var patterns: [([UInt8], Hints)] = []
            for (words, hint) in groups {
                for word in words {
                    let pattern = Array(word.utf8.filter { $0 != 0x2D && $0 != 0x5F })
                    precondition(!pattern.isEmpty, "a substring pattern has a byte")
                    for byte in pattern where column[Int(byte)] == 0 {
                        column[Int(byte)] = UInt8(columns)
                        columns += 1
                    }
                    patterns.append((pattern, hint))
                }
            }
            // The trie of the patterns (-1: no edge).
            var edges = [[Int]](repeating: [Int](repeating: -1, count: columns), count: 1)
            var output: [Hints] = [[]]
            for (pattern, hint) in patterns {
                var state = 0
                for byte in pattern {
                    let edge = Int(column[Int(byte)])
                    if edges[state][edge] < 0 {
                        edges[state][edge] = edges.count
                        edges.append([Int](repeating: -1, count: columns))
                        output.append([])
                    }
                    state = edges[state][edge]
                }
                output[state].formUnion(hint)
            }
            precondition(edges.count <= Int(UInt16.max), "the substring patterns fit in 65,535 states")
            // Breadth first, so that a state's fallback (the longest proper suffix that is a
            // state) is complete before the state: a missing edge goes where the fallback's goes.
            var next = [UInt16](repeating: 0, count: edges.count * columns)
            var fallback = [Int](repeating: 0, count: edges.count)
            var queue: [Int] = []
            for edge in 0..<columns where edges[0][edge] > 0 {
                next[edge] = UInt16(edges[0][edge])
                queue.append(edges[0][edge])
            }
            var head = 0
            while head < queue.count {
                let state = queue[head]
                head += 1
                output[state].formUnion(output[fallback[state]])
                for edge in 0..<columns {
                    let target = edges[state][edge]
                    let instead = next[fallback[state] * columns + edge]
                    if target > 0 {
                        fallback[target] = Int(instead)
                        next[state * columns + edge] = UInt16(target)
                        queue.append(target)
                    } else {
                        next[state * columns + edge] = instead
                    }
                }
            }
            self.column = column
            self.columns = columns
            self.next = next
            self.output = output
        }

        /// The hints of every pattern found in `text`.
        func hints(in text: UnsafeBufferPointer<UInt8>) -> Hints {
            column.withUnsafeBufferPointer { column in
                next.withUnsafeBufferPointer { next in
                    output.withUnsafeBufferPointer { output in
                        var state = 0
                        var found: Hints = []
                        for byte in text {
                            state = Int(next[state &* columns &+ Int(column[Int(byte)])])
                            found.formUnion(output[state])
                        }
                        return found
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
        // German, French, Spanish, Italian, Portuguese, Dutch.
        "ähnliche beiträge", "ähnliche artikel", "verwandte artikel", "mehr zum thema", "lesen sie auch",
        "das könnte sie auch interessieren", "das könnte dich auch interessieren", "weitere artikel", "weiterlesen",
        "articles similaires", "à lire aussi", "lire aussi", "sur le même sujet", "lire la suite",
        "artículos relacionados", "noticias relacionadas", "te puede interesar", "lee también", "leer más",
        "articoli correlati", "notizie correlate", "leggi anche", "potrebbe interessarti",
        "leia também", "notícias relacionadas", "artigos relacionados", "veja também", "leia mais",
        "gerelateerde artikelen", "lees ook", "lees meer",
    ]
    /// What a teaser of another page ends with, lower-cased: the link (or button) to the rest,
    /// in the eleven languages whose words are set apart by spaces (a Chinese "阅读全文" follows
    /// the text without one, and is not looked for).
    static let readMoreEndings = [
        "read more", "continue reading", "weiterlesen", "mehr lesen", "lire la suite", "leer más", "seguir leyendo",
        "leggi tutto", "continua a leggere", "leia mais", "continue lendo", "lees meer", "verder lezen", "đọc tiếp",
        "xem tiếp", "читать далее", "czytaj dalej", "διαβάστε περισσότερα",
    ]

    /// Whether a line ends with a "read more" (``readMoreEndings``) set after the end of a
    /// sentence: "… auf der Insel. Seht selbst! Weiterlesen", "… the new quay. Read more »". The
    /// words closing a sentence of their own ("children at home tend to read more.") do not
    /// count, nor a line that is only them (a label: ``label(of:)``).
    static func endsWithReadMore(_ text: String) -> Bool {
        // Only the end matters: its last 48 scalars, lower-cased (a block's whole text lower-cased
        // for every block cost a seventh of the parse of wcxb's pages).
        var scalars = text.unicodeScalars.suffix(48)
        while let last = scalars.last, !last.properties.isAlphabetic {
            if last == "." { return false }  // a sentence's end
            scalars.removeLast()
        }
        // Most lines end otherwise: told apart by their last letter, with nothing made.
        guard let last = scalars.last, readMoreLastLetters.contains(last) else { return false }
        let line = Array(String(String.UnicodeScalarView(scalars)).lowercased().unicodeScalars)
        func isSpace(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\u{A0}" }
        for ending in readMoreEndingScalars where line.count > ending.count && line.suffix(ending.count).elementsEqual(ending) {
            let before = line.dropLast(ending.count)
            guard let space = before.last, isSpace(space) else { continue }
            guard let previous = before.last(where: { !isSpace($0) }) else { return false }
            return sentenceEnds.contains(previous)
        }
        return false
    }

    private static let readMoreEndingScalars = readMoreEndings.map { Array($0.unicodeScalars) }
    /// What ends the sentence a read-more word follows.
    private static let sentenceEnds = Set(".!?…:»|–—-)".unicodeScalars)
    /// The last letter of each ending, in either case.
    private static let readMoreLastLetters: Set<Unicode.Scalar> = Set(
        readMoreEndings.compactMap(\.unicodeScalars.last).flatMap { [$0] + String($0).uppercased().unicodeScalars })

    static let boilerplateLabels = [
        "các tin bài khác", "các tin khác", "tin khác", "tin cùng chuyên mục", "đọc nhiều", "xem nhiều",
        "tin mới", "tin mới nhất", "tin nổi bật", "multimedia", "bình luận", "ý kiến bạn đọc", "chia sẻ",
        "từ khóa", "tags", "tag", "quảng cáo", "most read", "most popular", "most viewed", "popular", "trending",
        "more stories", "more news", "latest news", "latest", "top stories", "comments", "comment", "share",
        "share this", "share this article", "share this story", "advertisement", "newsletter", "recommended",
        "recommended for you", "you may also like", "you might also like", "editor's picks", "follow us",
        "sign up", "subscribe", "leave a comment", "leave a reply", "more from", "popular posts", "recent posts",
        "самое читаемое", "популярное", "комментарии", "热门新闻", "热点新闻", "评论", "najpopularniejsze",
        "komentarze", "δημοφιλή", "σχόλια", "tagged", "like this",
        // German, French, Spanish, Italian, Portuguese, Dutch.
        "kommentare", "kommentar schreiben", "kommentare schreiben", "meistgelesen", "meistgelesene artikel",
        "teilen", "diesen artikel teilen", "anzeige", "werbung", "schlagworte", "gefällt mir", "neueste beiträge",
        "commentaires", "partager", "publicité", "les plus lus", "laisser un commentaire", "mots-clés",
        "comentarios", "compartir", "publicidad", "lo más leído", "lo más visto", "deja un comentario", "etiquetas",
        "commenti", "condividi", "pubblicità", "i più letti", "lascia un commento",
        "comentários", "compartilhar", "partilhar", "publicidade", "mais lidas", "mais lidos", "deixe um comentário",
        "reacties", "delen", "advertentie", "meest gelezen", "laat een reactie achter",
    ]

    /// Bit `n` is set when a label has `n` bytes (every label is shorter than 64).
    private static let labelLengths: UInt64 = (relatedLabels + boilerplateLabels).reduce(0) { lengths, label in
        precondition(label.utf8.count < 64, "a section label is shorter than 64 bytes")
        return lengths | 1 << UInt64(label.utf8.count)
    }
    /// The first scalar of every label.
    private static let labelInitials = Set((relatedLabels + boilerplateLabels).compactMap(\.unicodeScalars.first))
    /// Each label's UTF-8 by its FNV-1a hash, with what it announces.
    private static let labelsByHash: [UInt64: (bytes: [UInt8], label: Label)] = {
        var table: [UInt64: (bytes: [UInt8], label: Label)] = [:]
        for (labels, label) in [(relatedLabels, Label.related), (boilerplateLabels, .boilerplate)] {
            for text in labels {
                let bytes = Array(text.utf8)
                let hash = FNV1a.hash(bytes)
                precondition(table[hash] == nil, "two section labels with one hash")
                table[hash] = (bytes, label)
            }
        }
        return table
    }()

    /// The label a short line announces, if it is one of the known section labels.
    ///
    /// The line is compared as bytes: lower-cased (ASCII byte by byte, anything else by
    /// `lowercased()`), without the marks that lead (`»`, `•`) or close (`:`, `»`, `›`, `>`) a
    /// label, and looked up by hash. The walk asks this of every short block.
    static func label(of text: String) -> Label? {
        // Cheap rejection first: a label is short, and its length (give or take trailing
        // punctuation) is one of the known labels' lengths.
        let count = text.utf8.count
        guard count <= 64 else { return nil }
        var text = text
        let (first, ascii) = text.withUTF8 { bytes in (bytes.first, !bytes.contains { $0 >= 0x80 }) }
        let lengthFits = (0...3).contains { count - $0 >= 0 && count - $0 < 64 && labelLengths & 1 << UInt64(count - $0) != 0 }
        guard lengthFits || first.map({ $0 >= 0x80 || $0 == 0x20 || $0 == 0x3E }) == true else { return nil }
        if !ascii {
            // Lower-casing beyond ASCII costs thousands of instructions a line (Chinese, Greek and
            // Russian pages have many short ones): first the line's first letter, lower-cased,
            // must begin a label. (`lowercased()` maps scalar by scalar, so that letter is the
            // first of the whole line lower-cased.)
            let letters = text.unicodeScalars.drop { $0 == " " || $0 == "»" || $0 == "•" }
            guard let initial = letters.first?.properties.lowercaseMapping.unicodeScalars.first,
                labelInitials.contains(initial)
            else { return nil }
        }
        var key = ascii ? text : text.lowercased()
        return key.withUTF8 { bytes in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bytes.count) { lowered in
                for index in 0..<bytes.count {
                    let byte = bytes[index]
                    lowered[index] = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                }
                return label(ofLowered: UnsafeBufferPointer(lowered))
            }
        }
    }

    /// ``label(of:)`` of a lower-cased line's bytes.
    private static func label(ofLowered key: UnsafeBufferPointer<UInt8>) -> Label? {
        var start = 0
        var end = key.count
        // `:`, ` `, `>`, `»` (C2 BB), `›` (E2 80 BA) at the end; ` `, `»`, `•` (E2 80 A2) at the start.
        while end > start {
            let last = key[end - 1]
            if last == 0x3A || last == 0x20 || last == 0x3E {
                end -= 1
            } else if last == 0xBB, end - start >= 2, key[end - 2] == 0xC2 {
                end -= 2
            } else if last == 0xBA, end - start >= 3, key[end - 3] == 0xE2, key[end - 2] == 0x80 {
                end -= 3
            } else {
                break
            }
        }
        while start < end {
            if key[start] == 0x20 {
                start += 1
            } else if key[start] == 0xC2, end - start >= 2, key[start + 1] == 0xBB {
                start += 2
            } else if key[start] == 0xE2, end - start >= 3, key[start + 1] == 0x80, key[start + 2] == 0xA2 {
                start += 3
            } else {
                break
            }
        }
        let trimmed = UnsafeBufferPointer(rebasing: key[start..<end])
        guard let entry = labelsByHash[FNV1a.hash(trimmed)], entry.bytes.elementsEqual(trimmed) else { return nil }
        return entry.label
    }
}
