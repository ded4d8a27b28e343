import Glibc
import RunnelProtocol

/// HTML's tokenizer (WHATWG HTML 13.2.5) over a page's UTF-8 bytes, in one pass, handing each
/// token to a ``TreeBuilder`` as it is read.
///
/// Text between tags goes to the builder straight from the page's bytes unless it holds a
/// character reference; comments, doctypes and bogus comments are passed over; a tag's name is
/// hashed once, lower-cased, and looked up in ``ElementKind/byHash``; of its attributes only the
/// ones the walk reads (``Attributes/readNames``) are copied out, the first of each name kept, as
/// a browser keeps it. After a start tag, the builder says how the content is read: raw text and
/// escapable text (`<script>`, `<style>`, `<title>`, `<textarea>`…) run to their end tag, found
/// with `memchr`, a script through the escape states of script data (`<!--<script>…</script>`
/// inside a script does not end it); in SVG and MathML a CDATA section is text. Carriage returns
/// are passed on as they are (the walk treats them as spaces).
///
/// Element names other than the ones ``ElementKind`` knows are interned per page: each name gets
/// one NUL-terminated copy, whose address the tree and the walker use as the name. Two names with
/// one 64-bit FNV-1a hash would share a copy.
struct HTMLTokenizer: ~Copyable {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    /// Text or a value with its character references decoded.
    private var decoded: [UInt8] = []
    /// The kept attributes of the tag being read, `name NUL value NUL` each, and where each
    /// name and value starts.
    private var arena = TagArena()
    private var offsets: [Int] = []
    private var pointers: [UnsafePointer<UInt8>?] = []
    /// The names of this page's elements that ``ElementKind`` does not know, by hash.
    private var otherNames = HashedNameTable<Int>(empty: -1)
    private var otherNameCopies: [UnsafeMutablePointer<UInt8>] = []

    /// Tokenizes `html` (UTF-8, no NUL bytes) into `builder` and ends the document (the caller
    /// takes the sink with ``TreeBuilder/finished()``).
    /// - Parameters:
    ///   - allAttributes: every attribute is handed on, not only the ones the walk reads (for the
    ///     tree-construction tests, which compare whole trees).
    ///   - limits: a tag with more attributes, or elements open deeper, stop the tokenizer.
    /// - Returns: the error when the page passed a limit (the tree is then incomplete), else nil.
    @discardableResult
    static func run<Sink: TreeSink>(
        _ html: UnsafeBufferPointer<UInt8>, into builder: inout TreeBuilder<Sink>, allAttributes: Bool = false,
        limits: MarkupLimits = .none
    ) -> RunnelError? {
        var tokenizer = HTMLTokenizer(html, allAttributes: allAttributes, limits: limits)
        tokenizer.run(&builder)
        tokenizer.end(&builder)
        return tokenizer.refusal
    }

    /// ``run(_:into:allAttributes:limits:)``, collecting into `unreadBodies` the byte ranges of
    /// the `<script>` and `<style>` bodies the walk never reads (all but JSON-LD), in order,
    /// where this tokenizer ends them: through the escape states of script data, as a browser
    /// does. A page without them gives gumbo the same tree; they are half the bytes of the wcxb
    /// corpus pages, and gumbo reads them character by character.
    static func run<Sink: TreeSink>(
        _ html: UnsafeBufferPointer<UInt8>, into builder: inout TreeBuilder<Sink>, limits: MarkupLimits,
        unreadBodies: inout [Range<Int>]
    ) -> RunnelError? {
        var tokenizer = HTMLTokenizer(html, allAttributes: false, limits: limits)
        tokenizer.unreadBodies = []
        tokenizer.run(&builder)
        tokenizer.end(&builder)
        unreadBodies = tokenizer.unreadBodies ?? []
        return tokenizer.refusal
    }

    private let allAttributes: Bool
    private let limits: MarkupLimits
    /// Set when the page passes a limit; the tokenizer stops.
    private var refusal: RunnelError?
    /// The script and style bodies the walk never reads, when they are collected.
    private var unreadBodies: [Range<Int>]?

    private init(_ bytes: UnsafeBufferPointer<UInt8>, allAttributes: Bool, limits: MarkupLimits) {
        self.bytes = bytes
        self.allAttributes = allAttributes
        self.limits = limits
        decoded.reserveCapacity(1024)
    }

    deinit {
        for copy in otherNameCopies { copy.deallocate() }
    }

    /// The end of the input: the builder ends the document while the names this tokenizer
    /// interned still live (held events hand them on: ``HeldEvents``). Not after a refusal.
    private func end<Sink: TreeSink>(_ builder: inout TreeBuilder<Sink>) {
        if refusal == nil { builder.finish() }
    }

    // MARK: Data

    private mutating func run<Sink: TreeSink>(_ builder: inout TreeBuilder<Sink>) {
        let count = bytes.count
        while index < count && !builder.stops {
            if builder.stack.count > limits.maxDepth {
                refusal = limits.tooDeep(builder.stack.count, at: index)
                return
            }
            let lt = find(0x3C, from: index) ?? count  // <
            if lt > index { text(index..<lt, builder: &builder) }
            guard lt + 1 < count else {
                if lt < count { text(lt..<count, builder: &builder) }  // a lone `<` at the end
                return
            }
            let next = bytes[lt + 1]
            if MarkupBytes.isLetter(next) {
                index = lt + 1
                startTag(builder: &builder)
            } else if next == 0x2F {  // </
                if lt + 2 < count && MarkupBytes.isLetter(bytes[lt + 2]) {
                    index = lt + 2
                    endTag(builder: &builder)
                } else if lt + 2 < count && bytes[lt + 2] == 0x3E {
                    index = lt + 3  // </> is nothing
                } else if lt + 2 == count {
                    text(lt..<count, builder: &builder)
                    return
                } else {
                    index = after(0x3E, from: lt + 2)  // a bogus comment
                }
            } else if next == 0x21 {  // <!
                if builder.awaitsDoctype, isDoctype(at: lt + 2) {
                    let (doctype, end) = Doctype.read(bytes, from: lt + 9)
                    builder.doctype(doctype)
                    index = end
                } else if builder.inForeignContent, let end = cdataEnd(from: lt + 2) {
                    let text = lt + 9  // after `<![CDATA[`
                    if end > text { builder.text(bytes.baseAddress! + text, end - text) }
                    index = min(end + 3, count)
                } else {
                    index = commentEnd(from: lt + 2)
                }
            } else if next == 0x3F {  // <? : a bogus comment
                index = after(0x3E, from: lt + 2)
            } else {
                // `<` that starts no tag is text.
                text(lt..<(lt + 1), builder: &builder)
                index = lt + 1
            }
        }
    }

    /// Hands `range` of the page to the builder as text, its character references decoded.
    private mutating func text<Sink: TreeSink>(_ range: Range<Int>, builder: inout TreeBuilder<Sink>) {
        let base = bytes.baseAddress! + range.lowerBound
        guard memchr(base, 0x26, range.count) != nil else {  // &
            builder.text(base, range.count)
            return
        }
        decode(range, inAttribute: false)
        decoded.withUnsafeBufferPointer { builder.text($0.baseAddress!, $0.count) }
    }

    /// Sets ``decoded`` to `range` of the page with its character references decoded.
    private mutating func decode(_ range: Range<Int>, inAttribute: Bool) {
        decoded.removeAll(keepingCapacity: true)
        let piece = UnsafeBufferPointer(rebasing: bytes[range])
        var at = 0
        while at < piece.count {
            guard let amp = memchr(piece.baseAddress! + at, 0x26, piece.count - at) else {
                decoded.append(contentsOf: UnsafeBufferPointer(rebasing: piece[at...]))
                return
            }
            let ampersand = UnsafeRawPointer(amp) - UnsafeRawPointer(piece.baseAddress!)
            decoded.append(contentsOf: UnsafeBufferPointer(rebasing: piece[at..<ampersand]))
            if let end = CharacterReference.decode(piece, at: ampersand, inAttribute: inAttribute, into: &decoded) {
                at = end
            } else {
                decoded.append(0x26)
                at = ampersand + 1
            }
        }
    }

    // MARK: Comments

    /// Where the comment, doctype or bogus comment after `<!` ends.
    private func commentEnd(from start: Int) -> Int {
        let count = bytes.count
        guard start + 1 < count, bytes[start] == 0x2D, bytes[start + 1] == 0x2D else {
            return after(0x3E, from: start)  // <!DOCTYPE …>, <![CDATA[…>, <!…>
        }
        var at = start + 2
        // `<!-->` and `<!--->` are whole (empty) comments.
        if at < count && bytes[at] == 0x3E { return at + 1 }
        if at + 1 < count && bytes[at] == 0x2D && bytes[at + 1] == 0x3E { return at + 2 }
        // Up to `-->` or `--!>`.
        while let dash = find(0x2D, from: at) {
            guard dash + 2 < count else { return count }
            if bytes[dash + 1] == 0x2D {
                if bytes[dash + 2] == 0x3E { return dash + 3 }
                if bytes[dash + 2] == 0x21 && dash + 3 < count && bytes[dash + 3] == 0x3E { return dash + 4 }
            }
            at = dash + 1
        }
        return count
    }

    /// Whether `DOCTYPE` (any case) is at `start`.
    private func isDoctype(at start: Int) -> Bool {
        let word: StaticString = "doctype"
        guard start + word.utf8CodeUnitCount <= bytes.count else { return false }
        for offset in 0..<word.utf8CodeUnitCount where MarkupBytes.lower(bytes[start + offset]) != word.utf8Start[offset] {
            return false
        }
        return true
    }

    /// Where the CDATA section after `<!` ends (its `]]>`, or the page's end), or nil when
    /// `[CDATA[` does not follow.
    private func cdataEnd(from start: Int) -> Int? {
        let open: StaticString = "[CDATA["
        guard start + open.utf8CodeUnitCount <= bytes.count,
            memcmp(bytes.baseAddress! + start, open.utf8Start, open.utf8CodeUnitCount) == 0
        else { return nil }
        var at = start + open.utf8CodeUnitCount
        while let bracket = find(0x5D, from: at) {  // ]
            if bracket + 2 < bytes.count && bytes[bracket + 1] == 0x5D && bytes[bracket + 2] == 0x3E { return bracket }
            at = bracket + 1
        }
        return bytes.count
    }

    // MARK: Tags

    /// A start tag whose name starts at ``index``.
    private mutating func startTag<Sink: TreeSink>(builder: inout TreeBuilder<Sink>) {
        let tagStart = index - 1
        let (nameRange, hash) = readName()
        let (name, kind) = element(nameRange, hash: hash, intern: true)
        arena.removeAll()
        offsets.removeAll(keepingCapacity: true)
        guard let (selfClosing, marked, attributes) = readAttributes(keep: true, of: kind) else {
            index = bytes.count  // the document ends inside the tag, which is dropped
            return
        }
        if attributes > limits.maxAttributes {
            refusal = limits.tooManyAttributes(attributes, at: tagStart)
            index = bytes.count
            return
        }
        var tag = TreeBuilder<Sink>.StartTag(name: name, kind: kind, selfClosing: selfClosing)
        tag.isHiddenInput = kind == .input && marked
        tag.isPresentationalFont = kind == .font && marked
        let content: ElementKind.Content
        if offsets.isEmpty {
            content = builder.startTag(tag)
        } else {
            pointers.removeAll(keepingCapacity: true)
            for offset in offsets { pointers.append(UnsafePointer(arena.start + offset)) }
            pointers.append(nil)
            content = pointers.withUnsafeMutableBufferPointer { list in
                tag.attributes = list.baseAddress
                return builder.startTag(tag)
            }
        }
        if content != .markup {
            // A script marked is JSON-LD, which the walk reads.
            let unread = content == .script ? !marked : content == .rawText && kind == .style
            readContent(content, of: kind, unread: unread, builder: &builder)
        }
    }

    /// An end tag whose name starts at ``index``.
    private mutating func endTag<Sink: TreeSink>(builder: inout TreeBuilder<Sink>) {
        let (nameRange, hash) = readName()
        guard readAttributes(keep: false, of: .other) != nil else {
            index = bytes.count
            return
        }
        let (name, kind) = element(nameRange, hash: hash, intern: false)
        builder.endTag(name: name, kind: kind)
    }

    /// Reads a tag name from ``index``: its range and the hash of its lower-case bytes.
    private mutating func readName() -> (Range<Int>, UInt64) {
        let start = index
        var hash = FNV1a.offsetBasis
        while index < bytes.count {
            let byte = bytes[index]
            if MarkupBytes.isWhitespace(byte) || byte == 0x2F || byte == 0x3E { break }
            hash = FNV1a.adding(MarkupBytes.lower(byte), to: hash)
            index += 1
        }
        return (start..<index, hash)
    }

    /// The interned name and kind of the element named by `range`: nil name for an end tag whose
    /// name no element on this page has had.
    private mutating func element(_ range: Range<Int>, hash: UInt64, intern: Bool) -> (UnsafePointer<UInt8>, ElementKind) {
        let kind = ElementKind.byHash[hash]
        if kind != .other && sameName(range, kind.cName) { return (kind.cName, kind) }
        let known = otherNames[hash]
        if known >= 0 { return (UnsafePointer(otherNameCopies[known]), .other) }
        guard intern else { return (ElementKind.other.cName, .other) }
        let copy = UnsafeMutablePointer<UInt8>.allocate(capacity: range.count + 1)
        for (offset, at) in range.enumerated() { copy[offset] = MarkupBytes.lower(bytes[at]) }
        copy[range.count] = 0
        otherNames[hash] = otherNameCopies.count
        otherNameCopies.append(copy)
        return (UnsafePointer(copy), .other)
    }

    /// Whether the page's bytes in `range`, lower-cased, are the NUL-terminated `name`.
    private func sameName(_ range: Range<Int>, _ name: UnsafePointer<UInt8>) -> Bool {
        var offset = 0
        for at in range {
            guard name[offset] == MarkupBytes.lower(bytes[at]) else { return false }
            offset += 1
        }
        return name[offset] == 0
    }

    /// Reads a tag's attributes up to and past its `>`, copying the ones the walk reads (when
    /// `keep`) into ``arena``. Returns whether the tag is self-closing, whether it is marked (an
    /// `<input>` with `type=hidden`, a `<font>` with `color`, `face` or `size`, a `<script>`
    /// whose `type` has `ld+json`, in any case), and how many
    /// attributes it has; nil when the document ends inside the tag.
    private mutating func readAttributes(keep: Bool, of kind: ElementKind) -> (selfClosing: Bool, marked: Bool, attributes: Int)? {
        let count = bytes.count
        var seen: UInt32 = 0
        var marked = false
        var attributes = 0
        while true {
            while index < count && MarkupBytes.isWhitespace(bytes[index]) { index += 1 }
            guard index < count else { return nil }
            let byte = bytes[index]
            if byte == 0x3E {  // >
                index += 1
                return (false, marked, attributes)
            }
            if byte == 0x2F {  // /
                index += 1
                if index < count && bytes[index] == 0x3E {
                    index += 1
                    return (true, marked, attributes)
                }
                continue
            }
            attributes += 1
            // The name (a first `=` belongs to it), up to whitespace, `/`, `>` or `=`.
            let nameStart = index
            index += 1
            while index < count {
                let byte = bytes[index]
                if MarkupBytes.isWhitespace(byte) || byte == 0x2F || byte == 0x3E || byte == 0x3D { break }
                index += 1
            }
            let nameEnd = index
            while index < count && MarkupBytes.isWhitespace(bytes[index]) { index += 1 }
            var value: Range<Int>?
            if index < count && bytes[index] == 0x3D {  // =
                index += 1
                while index < count && MarkupBytes.isWhitespace(bytes[index]) { index += 1 }
                guard index < count else { return nil }
                let quote = bytes[index]
                if quote == 0x22 || quote == 0x27 {
                    guard let close = find(quote, from: index + 1) else { return nil }
                    value = (index + 1)..<close
                    index = close + 1
                } else {
                    let start = index
                    while index < count && !MarkupBytes.isWhitespace(bytes[index]) && bytes[index] != 0x3E { index += 1 }
                    value = start..<index
                }
            }
            if kind == .font && !marked { marked = Self.isPresentational(UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd])) }
            guard keep else { continue }
            let read: Int
            if allAttributes {
                // Every attribute, the first of each name.
                read = -1
                if isDuplicate(nameStart..<nameEnd) { continue }
            } else {
                guard let index = Self.readAttributeIndex(bytes, nameStart..<nameEnd), seen & (1 << index) == 0 else { continue }
                seen |= 1 << index
                read = index
            }
            offsets.append(arena.count)
            arena.appendLowered(UnsafeBufferPointer(rebasing: bytes[nameStart..<nameEnd]))
            arena.append(0)
            offsets.append(arena.count)
            if let value {
                let raw = UnsafeBufferPointer(rebasing: bytes[value])
                if memchr(raw.baseAddress!, 0x26, raw.count) == nil {
                    arena.append(raw)
                    if read == Self.typeName && (kind == .input || kind == .script) { marked = Self.marks(kind, type: raw) }
                } else {
                    decode(value, inAttribute: true)
                    decoded.withUnsafeBufferPointer { arena.append($0) }
                    if read == Self.typeName && (kind == .input || kind == .script) {
                        marked = decoded.withUnsafeBufferPointer { Self.marks(kind, type: $0) }
                    }
                }
            }
            arena.append(0)
        }
    }

    /// Whether an attribute named as `range` (in any case) is already in ``arena`` (quadratic in
    /// a tag's attributes: used only with `allAttributes`, by tests).
    private func isDuplicate(_ range: Range<Int>) -> Bool {
        stride(from: 0, to: offsets.count, by: 2).contains { pair in
            var at = offsets[pair]
            for index in range {
                guard arena[at] == MarkupBytes.lower(bytes[index]) else { return false }
                at += 1
            }
            return arena[at] == 0
        }
    }

    /// Reads the content of the raw-text, escapable-text or plaintext element `kind` just started,
    /// up to and past its end tag; `unread`: a body the walk never reads (``unreadBodies``).
    private mutating func readContent<Sink: TreeSink>(
        _ content: ElementKind.Content, of kind: ElementKind, unread: Bool, builder: inout TreeBuilder<Sink>
    ) {
        let count = bytes.count
        let start = index
        var end = count
        var next = count
        if content != .plaintext, var lt = endTag(of: kind, from: start) {
            // A script ends at the first `</script` outside the escape states (`<!--` starts them),
            // which are read only when the text up to that `</script` has a `<!--`.
            if content == .script, hasCommentOpen(from: start, before: lt) {
                lt = scriptEnd(from: start) ?? count
            }
            if lt < count {
                end = lt
                index = lt + 2 + strlen(UnsafeRawPointer(kind.cName).assumingMemoryBound(to: CChar.self))
                next = readAttributes(keep: false, of: .other) != nil ? index : count
            }
        }
        if unread && end > start { unreadBodies?.append(start..<end) }
        if end > start {
            if content == .escapableText && memchr(bytes.baseAddress! + start, 0x26, end - start) != nil {
                decode(start..<end, inAttribute: false)
                decoded.withUnsafeBufferPointer { builder.rawText($0.baseAddress!, $0.count) }
            } else {
                builder.rawText(bytes.baseAddress! + start, end - start)
            }
        }
        if end < count { builder.endText() }
        index = next
    }

    /// Where the first end tag of `kind` (`</name` in any case, then whitespace, `/` or `>`) from
    /// `start` begins.
    private func endTag(of kind: ElementKind, from start: Int) -> Int? {
        var at = start
        while let lt = find(0x3C, from: at) {
            if isEndTag(of: kind, at: lt) { return lt }
            at = lt + 1
        }
        return nil
    }

    /// Whether an end tag of `kind` starts at `lt` (its `<`).
    private func isEndTag(of kind: ElementKind, at lt: Int) -> Bool {
        guard lt + 1 < bytes.count, bytes[lt + 1] == 0x2F else { return false }
        return isName(of: kind, at: lt + 2)
    }

    /// Whether the name of `kind` (any case), then whitespace, `/` or `>`, is at `at`.
    private func isName(of kind: ElementKind, at: Int) -> Bool {
        let name = kind.cName
        var offset = 0
        while name[offset] != 0 {
            guard at + offset < bytes.count, MarkupBytes.lower(bytes[at + offset]) == name[offset] else { return false }
            offset += 1
        }
        guard at + offset < bytes.count else { return false }
        let after = bytes[at + offset]
        return MarkupBytes.isWhitespace(after) || after == 0x2F || after == 0x3E
    }

    /// Whether a `<!--` starts between `start` and `end`, a `<`.
    private func hasCommentOpen(from start: Int, before end: Int) -> Bool {
        var at = start
        while let lt = find(0x3C, from: at), lt < end {
            if bytes[lt + 1] == 0x21 && lt + 3 < end && bytes[lt + 2] == 0x2D && bytes[lt + 3] == 0x2D { return true }
            at = lt + 1
        }
        return false
    }

    /// Where the script from `start` ends (the `<` of its end tag) when read through the script
    /// data states of the spec: `<!--` escapes, `-->` ends the escape, and inside an escape
    /// `<script` escapes twice, so that a `</script` there closes only the inner one. Nil when
    /// the script runs to the end of the page.
    private func scriptEnd(from start: Int) -> Int? {
        enum State { case data, escaped, escapedDash, escapedDashDash, double, doubleDash, doubleDashDash }
        var state = State.data
        var at = start
        let count = bytes.count
        while at < count {
            let byte = bytes[at]
            switch state {
            case .data:
                // Only a `<` matters here: found with `memchr`, not byte by byte.
                guard let lt = find(0x3C, from: at) else { return nil }
                at = lt
                if isEndTag(of: .script, at: at) { return at }
                if at + 3 < count && bytes[at + 1] == 0x21 && bytes[at + 2] == 0x2D && bytes[at + 3] == 0x2D {
                    state = .escapedDashDash
                    at += 4
                    continue
                }
            case .escaped where byte != 0x2D && byte != 0x3C:
                at = nextDashOrLess(from: at + 1)
                continue
            case .double where byte != 0x2D && byte != 0x3C:
                at = nextDashOrLess(from: at + 1)
                continue
            case .escaped, .escapedDash, .escapedDashDash:
                if byte == 0x2D {
                    state = state == .escaped ? .escapedDash : .escapedDashDash
                } else if byte == 0x3C {
                    if isEndTag(of: .script, at: at) { return at }
                    state = isName(of: .script, at: at + 1) ? .double : .escaped
                    if state == .double { at += 7 }
                } else {
                    state = byte == 0x3E && state == .escapedDashDash ? .data : .escaped
                }
            case .double, .doubleDash, .doubleDashDash:
                if byte == 0x2D {
                    state = state == .double ? .doubleDash : .doubleDashDash
                } else if byte == 0x3C {
                    state = isEndTag(of: .script, at: at) ? .escaped : .double
                    if state == .escaped { at += 8 }
                } else {
                    state = byte == 0x3E && state == .doubleDashDash ? .data : .double
                }
            }
            at += 1
        }
        return nil
    }

    /// The index of the next `-` or `<` at or after `start`, or the end: in a script's escaped
    /// states nothing else changes the state. Eight bytes at a time.
    private func nextDashOrLess(from start: Int) -> Int {
        var at = start
        let count = bytes.count
        if let base = UnsafeRawPointer(bytes.baseAddress) {
            while at + 8 <= count {
                let word = base.loadUnaligned(fromByteOffset: at, as: UInt64.self)
                let marks = WordBytes.equal(word, to: 0x2D) | WordBytes.equal(word, to: 0x3C)
                if marks != 0 { return at + WordBytes.first(marks) }
                at += 8
            }
        }
        while at < count && bytes[at] != 0x2D && bytes[at] != 0x3C { at += 1 }
        return at
    }

    // MARK: Bytes

    /// The names of the attributes the walk reads, lower case, by length.
    private static let readNames: [[(bytes: [UInt8], index: Int)]] = {
        var table = [[(bytes: [UInt8], index: Int)]](repeating: [], count: 33)
        for (index, name) in Attributes.readNames.sorted().enumerated() where name.utf8.count < 33 {
            table[name.utf8.count].append((Array(name.utf8), index))
        }
        precondition(Attributes.readNames.count <= 32, "the tokenizer marks the names it has seen in 32 bits")
        return table
    }()

    private static let typeName = Attributes.readNames.sorted().firstIndex(of: "type")!

    /// The index of the attribute name in `range` among ``readNames`` (any case), or nil.
    private static func readAttributeIndex(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Int? {
        guard range.count < readNames.count else { return nil }
        candidates: for (name, index) in readNames[range.count] {
            for (offset, at) in range.enumerated() where MarkupBytes.lower(bytes[at]) != name[offset] { continue candidates }
            return index
        }
        return nil
    }

    /// Whether a `type` attribute marks the element: `hidden` an `<input>`, `ld+json` (in any
    /// case, anywhere in the value) a `<script>`.
    private static func marks(_ kind: ElementKind, type: UnsafeBufferPointer<UInt8>) -> Bool {
        switch kind {
        case .input:
            return equalsLowercased(type, "hidden")
        case .script:
            let word = "ld+json".utf8
            guard type.count >= word.count else { return false }
            return (0...(type.count - word.count)).contains { start in
                zip(type[start...], word).allSatisfy { MarkupBytes.lower($0) == $1 }
            }
        default:
            return false
        }
    }

    /// Whether an attribute name makes a `<font>` leave SVG or MathML content.
    private static func isPresentational(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        equalsLowercased(name, "color") || equalsLowercased(name, "face") || equalsLowercased(name, "size")
    }

    private static func equalsLowercased(_ bytes: UnsafeBufferPointer<UInt8>, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        for offset in 0..<bytes.count where MarkupBytes.lower(bytes[offset]) != word.utf8Start[offset] { return false }
        return true
    }

    private func find(_ byte: UInt8, from start: Int) -> Int? {
        MarkupBytes.find(byte, in: bytes, from: start)
    }

    /// The index just past the next `byte` from `start`, or the end.
    private func after(_ byte: UInt8, from start: Int) -> Int {
        find(byte, from: start).map { $0 + 1 } ?? bytes.count
    }
}
