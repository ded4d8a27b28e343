import CJSONScan
import Glibc

/// Reads `article.parsed` and `article.enriched` bodies (enrich's and the store's inputs) straight
/// from their bytes, to the same values `RawJSON.decode` gives, in one pass and without
/// Foundation's decoder (which cost as much as the rest of storing an article but its database
/// work, and a tenth of enriching one).
///
/// It reads only what it reads exactly as the decoder would: a body with a repeated key, a
/// `\u` escape, a missing required field, a value of another type, a number that is not a
/// plain integer where an integer belongs, or anything else unexpected is left to the decoder
/// (the initializers return nil), which then also says what is wrong with it. It expects a body
/// that was checked as JSON, UTF-8 included (as every body read from a stream or link is, and
/// as ``RawJSON`` promises): it stops at any grammar it does not follow, without reading out of
/// bounds, but makes its Strings without checking their UTF-8 again.
///
/// ```swift
/// let article = ArticleEnriched(reading: envelope.body) ?? (try envelope.body.decode(ArticleEnriched.self))
/// ```
struct NewsBodyReader {
    /// A body this reader leaves to the decoder.
    struct Unreadable: Error {}

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    // MARK: Grammar

    private mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    /// The next byte after whitespace, not consumed.
    private mutating func peek() throws(Unreadable) -> UInt8 {
        skipSpace()
        guard index < bytes.count else { throw Unreadable() }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8) throws(Unreadable) {
        guard try peek() == byte else { throw Unreadable() }
        index += 1
    }

    /// The bytes inside the string at the cursor, still escaped, whether any is a backslash, and
    /// whether all are ASCII.
    private mutating func rawString() throws(Unreadable) -> (Range<Int>, escaped: Bool, ascii: Bool) {
        try expect(UInt8(ascii: "\""))
        let start = index
        var seen: CUnsignedInt = 0
        let length = runnel_json_string_end(bytes.baseAddress! + start, bytes.count - start, &seen)
        guard length < bytes.count - start else { throw Unreadable() }
        index = start + length + 1
        return (
            start..<(start + length), seen & CUnsignedInt(RUNNEL_JSON_ESCAPED) != 0,
            seen & CUnsignedInt(RUNNEL_JSON_NON_ASCII) == 0
        )
    }

    /// A String of bytes from the body, copied without checking them as UTF-8 again: a body is
    /// valid UTF-8 (``RawJSON``'s bytes are checked JSON), and unescaping a one-byte escape
    /// keeps it so. The check was the largest part of making the store's Strings (a fifth of
    /// reading an article's body, by instructions).
    private static func string(copying utf8: UnsafeBufferPointer<UInt8>, ascii: Bool) -> String {
        unsafe String(copying: UTF8Span(unchecked: utf8.span, isKnownASCII: ascii))
    }

    /// Skips any value, containers included.
    private mutating func skipValue(depth: Int = 0) throws(Unreadable) {
        guard depth < 64 else { throw Unreadable() }
        switch try peek() {
        case UInt8(ascii: "\""):
            _ = try rawString()
        case UInt8(ascii: "{"):
            try members { (reader, _) throws(Unreadable) in try reader.skipValue(depth: depth + 1) }
        case UInt8(ascii: "["):
            _ = try elements { (reader) throws(Unreadable) in try reader.skipValue(depth: depth + 1) }
        default:
            let token = UnsafeBufferPointer(rebasing: bytes[try scalarToken()])
            let first = token[0]
            if first == UInt8(ascii: "-") || first &- 0x30 < 10 {
                // A number, loosely: the decoder reads those it keeps.
                guard token.allSatisfy({ $0 &- 0x30 < 10 || [0x2B, 0x2D, 0x2E, 0x45, 0x65].contains($0) }) else {
                    throw Unreadable()
                }
            } else if !token.elementsEqual("true".utf8) && !token.elementsEqual("false".utf8)
                && !token.elementsEqual("null".utf8)
            {
                throw Unreadable()
            }
        }
    }

    /// A number or literal: the bytes up to the next delimiter.
    private mutating func scalarToken() throws(Unreadable) -> Range<Int> {
        skipSpace()
        let start = index
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                guard index > start else { throw Unreadable() }
                return start..<index
            default:
                index += 1
            }
        }
        throw Unreadable()
    }

    /// Calls `member` with each key of the object at the cursor (the cursor then at its value,
    /// which `member` must read). A repeated key is left to the decoder.
    private mutating func members(_ member: (inout NewsBodyReader, String) throws(Unreadable) -> Void) throws(Unreadable) {
        try expect(UInt8(ascii: "{"))
        if try peek() == UInt8(ascii: "}") {
            index += 1
            return
        }
        var seen = SeenKeys()
        while true {
            let (key, escaped, ascii) = try rawString()
            guard !escaped else { throw Unreadable() }
            let name = Self.string(copying: UnsafeBufferPointer(rebasing: bytes[key]), ascii: ascii)
            guard seen.insert(key, name, in: bytes) else { throw Unreadable() }
            try expect(UInt8(ascii: ":"))
            try member(&self, name)
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "}"):
                index += 1
                return
            default: throw Unreadable()
            }
        }
    }

    /// The keys of one object so far: the first sixteen as places in the body, compared byte for
    /// byte (no allocation, no hashing: the News objects have fewer), any after them in a set.
    private struct SeenKeys {
        private var first = InlineArray<16, Range<Int>>(repeating: 0..<0)
        private var count = 0
        private var more: Set<String> = []

        /// Whether `key` (the bytes at `range`, `name` as a String) is new to this object.
        mutating func insert(_ range: Range<Int>, _ name: String, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            let base = bytes.baseAddress!
            for j in 0..<min(count, 16) where first[j].count == range.count {
                if memcmp(base + first[j].lowerBound, base + range.lowerBound, range.count) == 0 { return false }
            }
            if count < 16 {
                first[count] = range
                count += 1
                return true
            }
            return more.insert(name).inserted
        }
    }

    /// Reads each element of the array at the cursor with `element`.
    private mutating func elements<T>(_ element: (inout NewsBodyReader) throws(Unreadable) -> T) throws(Unreadable) -> [T] {
        try expect(UInt8(ascii: "["))
        var values: [T] = []
        if try peek() == UInt8(ascii: "]") {
            index += 1
            return values
        }
        while true {
            values.append(try element(&self))
            switch try peek() {
            case UInt8(ascii: ","): index += 1
            case UInt8(ascii: "]"):
                index += 1
                return values
            default: throw Unreadable()
            }
        }
    }

    /// Whether the value at the cursor is `null` (then consumed).
    private mutating func null() throws(Unreadable) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        guard UnsafeBufferPointer(rebasing: bytes[try scalarToken()]).elementsEqual("null".utf8) else { throw Unreadable() }
        return true
    }

    // MARK: Values

    mutating func string() throws(Unreadable) -> String {
        let (range, escaped, ascii) = try rawString()
        let raw = UnsafeBufferPointer(rebasing: bytes[range])
        guard escaped else { return Self.string(copying: raw, ascii: ascii) }
        // The one-byte escapes written as their bytes in one pass; a `\u` (or what is no escape)
        // stops the run short of the end, and the string is the decoder's.
        return try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: raw.count) { (out) throws(Unreadable) in
            var written = 0
            guard runnel_json_unescape_run(raw.baseAddress!, raw.count, out.baseAddress!, &written) == raw.count else {
                throw Unreadable()
            }
            return Self.string(copying: UnsafeBufferPointer(rebasing: out[..<written]), ascii: ascii)
        }
    }

    /// The byte a backslash and `escape` stand for; `nil` for `\u` (surrogates above all are the
    /// decoder's to read) and for what is no escape.
    @inline(__always)
    private static func unescaped(_ escape: UInt8) -> UInt8? { JSONString.unescapedByte(escape) }

    /// Checks the string at the cursor as ``string()`` reads it, without making a String of it.
    mutating func skipString() throws(Unreadable) {
        let (range, escaped, _) = try rawString()
        guard escaped else { return }
        let base = bytes.baseAddress!
        var i = range.lowerBound
        while let slash = memchr(base + i, 0x5C, range.upperBound - i) {
            i = base.distance(to: slash.assumingMemoryBound(to: UInt8.self))
            guard i + 1 < range.upperBound, Self.unescaped(bytes[i + 1]) != nil else { throw Unreadable() }
            i += 2
        }
    }

    mutating func optionalString() throws(Unreadable) -> String? {
        try null() ? nil : try string()
    }

    /// A plain integer (`-?[0-9]+`) that fits an `Int`.
    mutating func int() throws(Unreadable) -> Int {
        let token = try scalarToken()
        var i = token.lowerBound
        let negative = bytes[i] == UInt8(ascii: "-")
        if negative { i += 1 }
        guard i < token.upperBound else { throw Unreadable() }
        var value = 0
        while i < token.upperBound {
            let digit = bytes[i] &- 0x30
            guard digit < 10 else { throw Unreadable() }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = negative ? times.subtractingReportingOverflow(Int(digit)) : times.addingReportingOverflow(Int(digit))
            guard !o1, !o2 else { throw Unreadable() }
            value = sum
            i += 1
        }
        return value
    }

    mutating func optionalInt() throws(Unreadable) -> Int? {
        try null() ? nil : try int()
    }

    /// A number that is a finite `Double`. One that rounds to zero though a digit of its mantissa
    /// is not (`2e-400`) is the decoder's, which refuses it.
    mutating func double() throws(Unreadable) -> Double {
        let token = UnsafeBufferPointer(rebasing: bytes[try scalarToken()])
        guard token[0] == UInt8(ascii: "-") || token[0] &- 0x30 < 10,
            let value = Double(String(decoding: token, as: UTF8.self)), value.isFinite
        else { throw Unreadable() }
        if value == 0 {
            let mantissa = token.prefix { $0 != UInt8(ascii: "e") && $0 != UInt8(ascii: "E") }
            guard !mantissa.contains(where: { $0 &- 0x31 < 9 }) else { throw Unreadable() }
        }
        return value
    }

    /// An array that may be null (then nil).
    mutating func optionalArray<T>(_ element: (inout NewsBodyReader) throws(Unreadable) -> T) throws(Unreadable) -> [T]? {
        try null() ? nil : try elements(element)
    }

    /// An object with the members `read` takes; other members are skipped.
    mutating func object(_ read: (inout NewsBodyReader, String) throws(Unreadable) -> Bool) throws(Unreadable) {
        try members { (reader, name) throws(Unreadable) in
            if try !read(&reader, name) { try reader.skipValue() }
        }
    }

    // MARK: The News bodies

    /// The fields of `article.parsed` and `article.enriched`, as read so far.
    struct Fields {
        var url: String?
        var canonicalURL: String?
        var title: String?
        var byline: String?
        var publishedAt: String?
        var updatedAt: String?
        var description: String?
        var siteName: String?
        var leadImage: String?
        var lang: String?
        var text: String?
        var paragraphs: [String]?
        var images: [ArticleParsed.Image]?
        var outlinks: [String]?
        var related: [ArticleParsed.Link]?
        var kind: ArticleParsed.Kind?
        var language: ArticleEnriched.Language?
        var entities: [ArticleEnriched.Entity]?
        var quotes: [ArticleEnriched.Quote]?
        var keywords: [String]?
        var summary: String?
        var wordCount: Int?
        var readingTimeS: Int?
        var simhash: String?
        var contentHash: String?
        /// False when `paragraphs` was skipped: the article then gets none, not ones split from
        /// its text.
        var keepsParagraphs = true

        var article: ArticleParsed? {
            guard let url, let title, let text else { return nil }
            var article = ArticleParsed(url: url)
            article.canonicalURL = canonicalURL
            article.title = title
            article.byline = byline
            article.publishedAt = publishedAt
            article.updatedAt = updatedAt
            article.description = description
            article.siteName = siteName
            article.leadImage = leadImage
            article.lang = lang
            article.text = text
            article.paragraphs = keepsParagraphs ? paragraphs ?? ArticleParsed.split(text) : []
            article.images = images ?? []
            article.outlinks = outlinks ?? []
            article.related = related ?? []
            article.kind = kind ?? .article
            return article
        }

        var enriched: ArticleEnriched? {
            guard let article, let language, let wordCount, let simhash, let contentHash else { return nil }
            return ArticleEnriched(
                article: article, language: language, entities: entities ?? [], quotes: quotes ?? [],
                keywords: keywords ?? [], summary: summary ?? "", wordCount: wordCount, readingTimeS: readingTimeS ?? 0,
                simhash: simhash, contentHash: contentHash)
        }
    }

    /// Reads the body's top-level object into ``Fields``; `paragraphs`, when `keepsParagraphs`
    /// is false, is checked as it would be read but not kept (``Fields/article`` then has none).
    mutating func fields(keepsParagraphs: Bool = true) throws(Unreadable) -> Fields {
        var f = Fields()
        f.keepsParagraphs = keepsParagraphs
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "url": f.url = try r.string()
            case "canonical_url": f.canonicalURL = try r.optionalString()
            case "title": f.title = try r.string()
            case "byline": f.byline = try r.optionalString()
            case "published_at": f.publishedAt = try r.optionalString()
            case "updated_at": f.updatedAt = try r.optionalString()
            case "description": f.description = try r.optionalString()
            case "site_name": f.siteName = try r.optionalString()
            case "lead_image": f.leadImage = try r.optionalString()
            case "lang": f.lang = try r.optionalString()
            case "text": f.text = try r.string()
            case "paragraphs":
                if keepsParagraphs {
                    f.paragraphs = try r.optionalArray { (r) throws(Unreadable) in try r.string() }
                } else {
                    _ = try r.optionalArray { (r) throws(Unreadable) in try r.skipString() }
                }
            case "images": f.images = try r.optionalArray { (r) throws(Unreadable) in try r.image() }
            case "outlinks": f.outlinks = try r.optionalArray { (r) throws(Unreadable) in try r.string() }
            case "related": f.related = try r.optionalArray { (r) throws(Unreadable) in try r.link() }
            case "kind":
                if try !r.null() {
                    guard let kind = ArticleParsed.Kind(rawValue: try r.string()) else { throw Unreadable() }
                    f.kind = kind
                }
            case "language": f.language = try r.language()
            case "entities": f.entities = try r.optionalArray { (r) throws(Unreadable) in try r.entity() }
            case "quotes": f.quotes = try r.optionalArray { (r) throws(Unreadable) in try r.quote() }
            case "keywords": f.keywords = try r.optionalArray { (r) throws(Unreadable) in try r.string() }
            case "summary": f.summary = try r.optionalString()
            case "word_count": f.wordCount = try r.int()
            case "reading_time_s": f.readingTimeS = try r.optionalInt()
            case "simhash": f.simhash = try r.string()
            case "content_hash": f.contentHash = try r.string()
            default: return false
            }
            return true
        }
        return f
    }

    mutating func image() throws(Unreadable) -> ArticleParsed.Image {
        var src: String?
        var caption: String?
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "src": src = try r.string()
            case "caption": caption = try r.optionalString()
            default: return false
            }
            return true
        }
        guard let src else { throw Unreadable() }
        return ArticleParsed.Image(src: src, caption: caption)
    }

    mutating func link() throws(Unreadable) -> ArticleParsed.Link {
        var title: String?
        var url: String?
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "title": title = try r.string()
            case "url": url = try r.string()
            default: return false
            }
            return true
        }
        guard let title, let url else { throw Unreadable() }
        return ArticleParsed.Link(title: title, url: url)
    }

    mutating func language() throws(Unreadable) -> ArticleEnriched.Language {
        var code: String?
        var confidence: Double?
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "code": code = try r.string()
            case "confidence": confidence = try r.double()
            default: return false
            }
            return true
        }
        guard let code, let confidence else { throw Unreadable() }
        return ArticleEnriched.Language(code: code, confidence: confidence)
    }

    mutating func entity() throws(Unreadable) -> ArticleEnriched.Entity {
        var text: String?
        var kind: String?
        var count: Int?
        var first: Int?
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "text": text = try r.string()
            case "kind": kind = try r.string()
            case "count": count = try r.int()
            case "first": first = try r.int()
            default: return false
            }
            return true
        }
        guard let text, let kind, let count, let first else { throw Unreadable() }
        return ArticleEnriched.Entity(text: text, kind: kind, count: count, first: first)
    }

    mutating func quote() throws(Unreadable) -> ArticleEnriched.Quote {
        var text: String?
        var speaker: String?
        try object { (r, name) throws(Unreadable) in
            switch name {
            case "text": text = try r.string()
            case "speaker": speaker = try r.optionalString()
            default: return false
            }
            return true
        }
        guard let text else { throw Unreadable() }
        return ArticleEnriched.Quote(text: text, speaker: speaker)
    }

    /// The fields of the object that is the whole of `body`; nil when it is left to the decoder.
    static func fields(of body: RawJSON, keepsParagraphs: Bool = true) -> Fields? {
        whole(body) { (reader) throws(Unreadable) in try reader.fields(keepsParagraphs: keepsParagraphs) }
    }

    /// What `read` makes of `body` when it reads the whole of it; nil when `read` leaves it to
    /// the decoder or stops before its end.
    static func whole<T>(_ body: RawJSON, _ read: (inout NewsBodyReader) throws(Unreadable) -> T) -> T? {
        body.bytes.withUnsafeBufferPointer { buffer -> T? in
            guard !buffer.isEmpty else { return nil }
            var reader = NewsBodyReader(buffer)
            do throws(Unreadable) {
                let value = try read(&reader)
                reader.skipSpace()
                return reader.index == buffer.count ? value : nil
            } catch {
                return nil
            }
        }
    }
}

extension ArticleParsed {
    /// An `article.parsed` body read without Foundation's decoder, as `body.decode(ArticleParsed.self)`
    /// reads it; nil when it holds anything that reader leaves to the decoder (decode it then).
    public init?(reading body: RawJSON) {
        guard let article = NewsBodyReader.fields(of: body)?.article else { return nil }
        self = article
    }

    /// ``init(reading:)`` without `paragraphs` (checked, not kept: `paragraphs` is empty), for a
    /// reader that uses only `text`: the store, for which they were a third of the body's
    /// Strings.
    public init?(readingWithoutParagraphs body: RawJSON) {
        guard let article = NewsBodyReader.fields(of: body, keepsParagraphs: false)?.article else { return nil }
        self = article
    }
}

extension ArticleEnriched {
    /// An `article.enriched` body read without Foundation's decoder, as
    /// `body.decode(ArticleEnriched.self)` reads it; nil when it holds anything that reader
    /// leaves to the decoder (decode it then, which also says what is wrong).
    public init?(reading body: RawJSON) {
        guard let article = NewsBodyReader.fields(of: body)?.enriched else { return nil }
        self = article
    }

    /// ``init(reading:)`` without the article's `paragraphs` (checked, not kept), as
    /// ``ArticleParsed/init(readingWithoutParagraphs:)``.
    public init?(readingWithoutParagraphs body: RawJSON) {
        guard let article = NewsBodyReader.fields(of: body, keepsParagraphs: false)?.enriched else { return nil }
        self = article
    }
}
