import Foundation
import RunnelProtocol

/// One linear pass over a page's markup before libxml2 or gumbo parses it, measuring what makes
/// them slower than linear: the attributes of one tag and how deep elements are left open. (The
/// native builder checks both limits itself as it reads, ``MarkupLimits``; the scan runs for it
/// only before gumbo rebuilds a page it handed over.)
///
/// libxml2 and gumbo both compare each attribute of a tag with the ones before it (duplicates
/// are dropped): one tag with 200,000 attributes took 42 s. Both also walk the stack of open
/// elements on many tags (scope checks, `<a>` closing an open `<a>`, gumbo's reconstruction of
/// formatting elements), so a page that leaves tens of thousands of elements open costs the
/// depth on every tag. Past ``ParseStage/Configuration/maxAttributes`` or
/// ``ParseStage/Configuration/maxDepth`` the page is refused with `OUT_OF_RANGE` (final, as a page over
/// `max-html-bytes`: the same page would be refused again), so what is
/// parsed costs at most a constant times its size.
///
/// The depth is a model, not the parsers' tree: start tags of non-void elements open, an end tag
/// closes back to the element it names when that is open (and is ignored otherwise), and the
/// elements HTML closes implicitly (`<p>`, `<li>`, `<td>`, `<option>`…) close the same element
/// on top. It counts what markup leaves open, which bounds what the parsers keep open.
struct MarkupScan {
    /// The most attributes on one tag, and the byte offset of that tag.
    private(set) var maxAttributes = 0
    private(set) var maxAttributesOffset = 0
    /// The deepest the model's open elements got, and the byte offset of the tag that got there.
    private(set) var maxDepth = 0
    private(set) var maxDepthOffset = 0
    /// The byte ranges of `<script>` and `<style>` bodies that the tree never reads (no `ld+json`
    /// and no `&` in the tag, not a self-closed `<script/>`), in document order. libxml2 reads such
    /// a body character by character only to end it where this scan does (at `</script`, any
    /// case), so leaving these bytes out gives the same tree from less input (see
    /// ``HTMLTreeBuilder/build(html:baseURL:construction:omitting:)``); they are 44% of the bytes
    /// of the wcxb corpus pages and 26% of daniel's.
    private(set) var unreadBodies: [Range<Int>] = []
    /// The byte ranges of attributes the walk never reads (`data-*`, `srcset`, `aria-label`,
    /// `onclick`…; each with the whitespace before it), in start tags written plainly enough that
    /// this scan and libxml2 split them the same way: ``Attributes`` reads a fixed set of names,
    /// and libxml2 otherwise reads the rest character by character for nothing (a quarter of
    /// the wcxb markup it is given). In document order.
    private(set) var unreadAttributes: [Range<Int>] = []

    /// ``unreadBodies`` and ``unreadAttributes`` together, in order: what libxml2 is not given.
    var unread: [Range<Int>] {
        var merged: [Range<Int>] = []
        merged.reserveCapacity(unreadBodies.count + unreadAttributes.count)
        var a = 0
        var b = 0
        while a < unreadBodies.count || b < unreadAttributes.count {
            if b == unreadAttributes.count
                || a < unreadBodies.count && unreadBodies[a].lowerBound < unreadAttributes[b].lowerBound
            {
                merged.append(unreadBodies[a])
                a += 1
            } else {
                merged.append(unreadAttributes[b])
                b += 1
            }
        }
        return merged
    }
    /// False from the first `<title>`, `<textarea>`, `<iframe>`, self-closed `<script/>`… whose
    /// text holds a `<`: libxml2 2.9 parses that text as markup where this scan skips it, so past
    /// one the two may disagree on where a script starts, and no more bodies are left out.
    private var agreesWithLibXML2 = true
    /// Whether ``unreadBodies`` and ``unreadAttributes`` are collected (only libxml2 is given
    /// less than the page).
    private let collectsUnread: Bool

    /// Scans `html` (UTF-8).
    /// - Parameter collectingUnread: whether to collect what libxml2 need not be given.
    init(_ html: UnsafeBufferPointer<UInt8>, collectingUnread: Bool = true) {
        collectsUnread = collectingUnread
        scan(html)
    }

    /// Scans `html`.
    init(_ html: String) {
        collectsUnread = true
        var copy = html
        copy.withUTF8 { scan($0) }
    }

    /// The scan of `html` (UTF-8), which must be within `limits`.
    /// - Parameter collectingUnread: whether to collect what libxml2 need not be given.
    /// - Throws: ``RunnelError`` `OUT_OF_RANGE` naming the limit and where it was passed.
    static func check(_ html: UnsafeBufferPointer<UInt8>, against limits: MarkupLimits, collectingUnread: Bool) throws(RunnelError) -> MarkupScan {
        let scan = MarkupScan(html, collectingUnread: collectingUnread)
        if scan.maxAttributes > limits.maxAttributes { throw limits.tooManyAttributes(scan.maxAttributes, at: scan.maxAttributesOffset) }
        if scan.maxDepth > limits.maxDepth { throw limits.tooDeep(scan.maxDepth, at: scan.maxDepthOffset) }
        return scan
    }

    // MARK: The pass

    /// Open elements: their names' hashes, and how many of each hash are open (to know in O(1)
    /// whether an end tag closes anything; a hash collision only ends a run early, it cannot
    /// loop).
    private var stack: [UInt64] = []
    private var openCount = HashedNameTable(empty: 0)

    private mutating func scan(_ bytes: UnsafeBufferPointer<UInt8>) {
        let count = bytes.count
        var i = 0
        while i < count {
            let lt = MarkupBytes.find(0x3C, in: bytes, from: i)
            guard let lt else { return }  // <
            i = lt + 1
            guard i < count else { return }
            let c = bytes[i]
            if c == 0x21 {  // <! : a comment, a doctype, CDATA
                if i + 2 < count && bytes[i + 1] == 0x2D && bytes[i + 2] == 0x2D {
                    i = Self.find(sequence: [0x2D, 0x2D, 0x3E], in: bytes, from: i + 3).map { $0 + 3 } ?? count
                } else {
                    i = MarkupBytes.find(0x3E, in: bytes, from: i).map { $0 + 1 } ?? count
                }
                continue
            }
            if c == 0x3F {  // <? : a bogus comment up to >
                i = MarkupBytes.find(0x3E, in: bytes, from: i).map { $0 + 1 } ?? count
                continue
            }
            let isEnd = c == 0x2F
            let nameStart = isEnd ? i + 1 : i
            guard nameStart < count, MarkupBytes.isLetter(bytes[nameStart]) else { continue }  // text `<`
            var j = nameStart
            var hash = FNV1a.offsetBasis
            while j < count, !Self.endsName(bytes[j]) {
                hash = FNV1a.adding(MarkupBytes.lower(bytes[j]), to: hash)
                j += 1
            }
            let nameEnd = j
            // Attributes up to the tag's `>`, outside quoted values.
            var attributes = 0
            var inName = false
            var quote: UInt8 = 0
            var afterEquals = false
            while j < count {
                let b = bytes[j]
                if quote != 0 {
                    if b == quote { quote = 0 }
                } else if b == 0x3E {
                    break
                } else if b == 0x22 || b == 0x27, afterEquals {
                    quote = b
                    afterEquals = false
                } else if b == 0x3D {
                    afterEquals = true
                    inName = false
                } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0C || b == 0x0D || b == 0x2F {
                    inName = false
                } else if afterEquals {
                    afterEquals = false  // an unquoted value
                    inName = true
                } else if !inName {
                    inName = true
                    attributes += 1
                }
                j += 1
            }
            if attributes > maxAttributes {
                maxAttributes = attributes
                maxAttributesOffset = lt
            }
            if !isEnd && attributes > 0 && j < count && agreesWithLibXML2 && collectsUnread {
                Self.collectUnreadAttributes(bytes, nameEnd..<j, into: &unreadAttributes)
            }
            i = min(count, j + 1)
            if isEnd {
                close(hash)
            } else {
                let selfClosing = j > 0 && j <= count && bytes[j - 1] == 0x2F
                let role = Self.roles[hash]
                if role.contains(.rawText), let raw = Self.rawText[hash] {
                    // Script, style, textarea, title…: text up to the matching end tag.
                    guard let end = Self.findEndTag(raw, in: bytes, from: i) else {
                        i = count
                        continue
                    }
                    if (hash == Self.script || hash == Self.style) && !selfClosing {
                        // Not JSON-LD, which the tree reads: `ld+json` in the tag, or an `&` that
                        // may spell it (`ld&#x2B;json`).
                        if agreesWithLibXML2 && collectsUnread && end.tag > i
                            && !Self.contains(Self.ldJSON, in: bytes, lt..<j) && !Self.contains([0x26], in: bytes, lt..<j)
                        {
                            unreadBodies.append(i..<end.tag)
                        }
                    } else if i < end.tag && MarkupBytes.find(0x3C, in: UnsafeBufferPointer(rebasing: bytes[..<end.tag]), from: i) != nil {
                        agreesWithLibXML2 = false
                    }
                    i = end.next
                    continue
                }
                if role.contains(.void) || selfClosing && !role.contains(.closesOthers) { continue }
                if role.contains(.closesParagraph), stack.last == Self.paragraph { pop() }
                if role.contains(.closesOthers), let closes = Self.closers[hash] {
                    while let top = stack.last, closes.contains(top) { pop() }
                }
                push(hash, at: lt)
            }
        }
    }

    private mutating func push(_ hash: UInt64, at offset: Int) {
        stack.append(hash)
        openCount[hash] += 1
        if stack.count > maxDepth {
            maxDepth = stack.count
            maxDepthOffset = offset
        }
    }

    private mutating func pop() {
        let hash = stack.removeLast()
        openCount[hash] -= 1
    }

    /// An end tag: closes back to the element it names, when one is open.
    private mutating func close(_ hash: UInt64) {
        guard openCount[hash] > 0 else { return }
        while let top = stack.last {
            pop()
            if top == hash { return }
        }
    }

    // MARK: Attributes

    /// Appends the ranges of the attributes in `tag` (a start tag's bytes after its name, up to
    /// its `>`) that ``Attributes`` never reads, each with the whitespace before it; appends
    /// nothing unless every attribute is written plainly: whitespace, a name of ASCII letters,
    /// digits, `-`, `_`, `:` and `.` starting with a letter, and optionally `=` and a value in
    /// quotes or, unquoted, without quotes, `<`, `=` or a backquote. On such a tag libxml2 splits
    /// the attributes where this does (anything else, it may read differently, and keeps).
    private static func collectUnreadAttributes(
        _ bytes: UnsafeBufferPointer<UInt8>, _ tag: Range<Int>, into ranges: inout [Range<Int>]
    ) {
        let end = tag.upperBound
        let before = ranges.count
        func giveUp() { ranges.removeSubrange(before...) }
        var k = tag.lowerBound
        while k < end {
            let start = k
            // The self-closing slash, alone at the end.
            if bytes[k] == 0x2F && k + 1 == end { return }
            guard isBlank(bytes[k]) else { return giveUp() }
            while k < end && isBlank(bytes[k]) { k += 1 }
            if k == end || bytes[k] == 0x2F && k + 1 == end { return }
            guard MarkupBytes.isLetter(bytes[k]) else { return giveUp() }
            var name = FNV1a.offsetBasis
            while k < end && isAttributeNameByte(bytes[k]) {
                name = FNV1a.adding(MarkupBytes.lower(bytes[k]), to: name)
                k += 1
            }
            var afterName = k
            while afterName < end && isBlank(bytes[afterName]) { afterName += 1 }
            if afterName < end && bytes[afterName] == 0x3D {  // =
                k = afterName + 1
                while k < end && isBlank(bytes[k]) { k += 1 }
                guard k < end else { return giveUp() }
                let quote = bytes[k]
                if quote == 0x22 || quote == 0x27 {
                    guard let close = MarkupBytes.find(quote, in: UnsafeBufferPointer(rebasing: bytes[..<end]), from: k + 1) else {
                        return giveUp()
                    }
                    k = close + 1
                } else {
                    while k < end && !isBlank(bytes[k]) {
                        let byte = bytes[k]
                        if byte == 0x22 || byte == 0x27 || byte == 0x3C || byte == 0x3D || byte == 0x60 { return giveUp() }
                        k += 1
                    }
                }
            }
            guard k == end || isBlank(bytes[k]) || bytes[k] == 0x2F && k + 1 == end else { return giveUp() }
            if !readAttributes[name] { ranges.append(start..<k) }
        }
    }

    /// The attribute names ``Attributes`` reads, and `charset` (which libxml2 itself may read),
    /// by their hashes. A name whose hash equals one of theirs is kept too: harmless.
    private static let readAttributes: HashedNameTable<Bool> = {
        var table = HashedNameTable(empty: false)
        for name in Attributes.readNames + ["charset"] { table[hash(name)] = true }
        return table
    }()

    @inline(__always) private static func isBlank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
    @inline(__always) private static func isAttributeNameByte(_ b: UInt8) -> Bool {
        MarkupBytes.isLetter(b) || (b >= 0x30 && b <= 0x39) || b == 0x2D || b == 0x5F || b == 0x3A || b == 0x2E
    }

    // MARK: Names

    private static func hash(_ name: String) -> UInt64 { FNV1a.hash(name.utf8) }

    /// Elements with no end tag.
    private static let void = (
        ["area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr",
         "basefont", "bgsound", "frame", "keygen", "image"])

    /// Elements whose text runs to their end tag, by the hash of their name: the end tag's bytes.
    private static let rawText: [UInt64: [UInt8]] = Dictionary(
        uniqueKeysWithValues: ["script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"]
            .map { (hash($0), Array("</\($0)".utf8)) })

    private static let paragraph = hash("p")
    private static let script = hash("script")
    private static let style = hash("style")
    private static let ldJSON = Array("ld+json".utf8)

    /// Start tags that close an open `<p>` on top (HTML closes it in button scope).
    private static let closesParagraph = (
        ["address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl", "dd", "dt",
         "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup",
         "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "summary", "table", "ul"])

    /// Start tags that close the same kind of element when it is the one on top (HTML's implied
    /// end tags): `<p>` after an open `<p>`, `<li>` after `<li>`, `<td>` after `<th>`…
    private static let closers: [UInt64: [UInt64]] = {
        let groups: [[String]: [String]] = [
            ["p"]: ["p"], ["li"]: ["li"], ["dt", "dd"]: ["dt", "dd"], ["td", "th"]: ["td", "th"], ["tr"]: ["tr", "td", "th"],
            ["option"]: ["option"], ["optgroup"]: ["option", "optgroup"], ["a"]: ["a"],
            ["tbody", "thead", "tfoot"]: ["tbody", "thead", "tfoot", "tr", "td", "th"],
            ["rb", "rt", "rtc", "rp"]: ["rb", "rt", "rtc", "rp"],
        ]
        var closers: [UInt64: [UInt64]] = [:]
        for (starts, closed) in groups {
            for start in starts { closers[hash(start), default: []].append(contentsOf: closed.map(hash)) }
        }
        return closers
    }()

    /// What the lists above say of each name, looked up once per tag.
    private struct Role: OptionSet, Sendable {
        let rawValue: UInt16
        static let void = Role(rawValue: 1 << 0)
        static let rawText = Role(rawValue: 1 << 1)
        static let closesParagraph = Role(rawValue: 1 << 2)
        static let closesOthers = Role(rawValue: 1 << 3)
    }

    private static let roles: HashedNameTable<Role> = {
        var roles = HashedNameTable<Role>(empty: [])
        let lists: [([UInt64], Role)] = [
            (void.map(hash), .void), (Array(rawText.keys), .rawText), (closesParagraph.map(hash), .closesParagraph),
            (Array(closers.keys), .closesOthers),
        ]
        for (names, role) in lists {
            for name in names { roles[name].formUnion(role) }
        }
        return roles
    }()

    // MARK: Bytes

    @inline(__always) private static func endsName(_ b: UInt8) -> Bool {
        b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0C || b == 0x0D || b == 0x2F || b == 0x3E
    }

    /// Whether `pattern` (lower case) occurs in `bytes[range]`, in any case.
    private static func contains(_ pattern: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> Bool {
        guard range.count >= pattern.count else { return false }
        for start in range.lowerBound...(range.upperBound - pattern.count) {
            var k = 0
            while k < pattern.count && MarkupBytes.lower(bytes[start + k]) == pattern[k] { k += 1 }
            if k == pattern.count { return true }
        }
        return false
    }

    private static func find(sequence: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        var i = start
        while let at = MarkupBytes.find(sequence[0], in: bytes, from: i) {
            if at + sequence.count > bytes.count { return nil }
            if (1..<sequence.count).allSatisfy({ bytes[at + $0] == sequence[$0] }) { return at }
            i = at + 1
        }
        return nil
    }

    /// Where `</name` (any case) starts, and the offset just past its `>`; nil when there is none.
    private static func findEndTag(_ tag: [UInt8], in bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (tag: Int, next: Int)? {
        var i = start
        while let at = MarkupBytes.find(0x3C, in: bytes, from: i) {
            if at + tag.count > bytes.count { return nil }
            if (1..<tag.count).allSatisfy({ MarkupBytes.lower(bytes[at + $0]) == tag[$0] }) {
                return (at, MarkupBytes.find(0x3E, in: bytes, from: at + tag.count).map { $0 + 1 } ?? bytes.count)
            }
            i = at + 1
        }
        return nil
    }
}

/// A table keyed by the 64-bit FNV-1a hashes of element names, by open addressing: a lookup is a
/// multiply and a probe or two, where a `Dictionary` would hash the hash again with SipHash (the
/// scan looks up every tag of a page). A missing name reads as `empty`. Two names with one hash
/// share an entry, which the scan's model tolerates (see ``MarkupScan``'s stack).
struct HashedNameTable<Value: Sendable>: Sendable {
    private var keys: [UInt64]
    private var values: [Value]
    private(set) var count = 0
    private let empty: Value

    /// - Parameter capacity: the initial number of slots, a power of two; the table doubles
    ///   when half full.
    init(empty: Value, capacity: Int = 64) {
        precondition(capacity > 0 && capacity & (capacity - 1) == 0, "the capacity is a power of two")
        keys = [UInt64](repeating: 0, count: capacity)
        values = [Value](repeating: empty, count: capacity)
        self.empty = empty
    }

    subscript(name: UInt64) -> Value {
        get {
            let key = Self.stored(name)
            let slot = slot(of: key)
            return keys[slot] == key ? values[slot] : empty
        }
        set {
            let key = Self.stored(name)
            var slot = slot(of: key)
            if keys[slot] != key {
                if 2 * (count + 1) > keys.count {
                    grow()
                    slot = self.slot(of: key)
                }
                keys[slot] = key
                count += 1
            }
            values[slot] = newValue
        }
    }

    /// Zero marks an empty slot, so a name hashing to zero is stored as one.
    private static func stored(_ name: UInt64) -> UInt64 { name == 0 ? 1 : name }

    /// The slot holding `key`, or the empty slot where it would go.
    private func slot(of key: UInt64) -> Int {
        let mask = keys.count - 1
        var slot = Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while keys[slot] != 0 && keys[slot] != key { slot = (slot + 1) & mask }
        return slot
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.0 != 0 }
        keys = [UInt64](repeating: 0, count: 2 * keys.count)
        values = [Value](repeating: empty, count: keys.count)
        for (key, value) in old {
            let slot = slot(of: key)
            keys[slot] = key
            values[slot] = value
        }
    }
}
