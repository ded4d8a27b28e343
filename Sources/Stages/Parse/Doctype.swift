/// A page's `<!DOCTYPE …>`, read as HTML's tokenizer reads it (WHATWG HTML 13.2.5.53–68), and
/// the document mode it sets (13.2.6.4.1): whether the page is in quirks mode, the one mode with
/// a say in tree construction (a `<table>` does not close an open `<p>` there).
struct Doctype: Equatable {
    /// The name, lower case; nil when missing.
    var name: [UInt8]?
    var publicID: [UInt8]?
    var systemID: [UInt8]?
    /// Set by markup the tokenizer cannot read as a doctype (no name, an unquoted identifier…).
    var forceQuirks = false

    /// Reads the doctype whose `<!DOCTYPE` (any case) ends at `start`, up to its `>`; returns it
    /// and the index just past it.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> (Doctype, end: Int) {
        var reader = Reader(bytes: bytes, at: start)
        let doctype = reader.read()
        return (doctype, reader.at)
    }

    /// Whether a page with this doctype is in quirks mode.
    var isQuirks: Bool {
        guard !forceQuirks, name == Array("html".utf8) else { return true }
        let publicID = (self.publicID ?? []).map(MarkupBytes.lower)
        if let systemID, systemID.map(MarkupBytes.lower) == Array("http://www.ibm.com/data/dtd/v11/ibmxhtml1-transitional.dtd".utf8) {
            return true
        }
        if Self.quirkyPublicIDs.contains(publicID) { return true }
        if Self.quirkyPublicIDPrefixes.contains(where: { publicID.starts(with: $0) }) { return true }
        return self.systemID == nil && Self.quirkyWithoutSystemID.contains(where: { publicID.starts(with: $0) })
    }

    private static let quirkyPublicIDs: [[UInt8]] = [
        "-//w3o//dtd w3 html strict 3.0//en//", "-/w3c/dtd html 4.0 transitional/en", "html",
    ].map { Array($0.utf8) }

    private static let quirkyWithoutSystemID: [[UInt8]] = [
        "-//w3c//dtd html 4.01 frameset//", "-//w3c//dtd html 4.01 transitional//",
    ].map { Array($0.utf8) }

    private static let quirkyPublicIDPrefixes: [[UInt8]] = [
        "+//silmaril//dtd html pro v0r11 19970101//", "-//as//dtd html 3.0 aswedit + extensions//",
        "-//advasoft ltd//dtd html 3.0 aswedit + extensions//", "-//ietf//dtd html 2.0 level 1//",
        "-//ietf//dtd html 2.0 level 2//", "-//ietf//dtd html 2.0 strict level 1//",
        "-//ietf//dtd html 2.0 strict level 2//", "-//ietf//dtd html 2.0 strict//", "-//ietf//dtd html 2.0//",
        "-//ietf//dtd html 2.1e//", "-//ietf//dtd html 3.0//", "-//ietf//dtd html 3.2 final//",
        "-//ietf//dtd html 3.2//", "-//ietf//dtd html 3//", "-//ietf//dtd html level 0//",
        "-//ietf//dtd html level 1//", "-//ietf//dtd html level 2//", "-//ietf//dtd html level 3//",
        "-//ietf//dtd html strict level 0//", "-//ietf//dtd html strict level 1//",
        "-//ietf//dtd html strict level 2//", "-//ietf//dtd html strict level 3//", "-//ietf//dtd html strict//",
        "-//ietf//dtd html//", "-//metrius//dtd metrius presentational//",
        "-//microsoft//dtd internet explorer 2.0 html strict//", "-//microsoft//dtd internet explorer 2.0 html//",
        "-//microsoft//dtd internet explorer 2.0 tables//", "-//microsoft//dtd internet explorer 3.0 html strict//",
        "-//microsoft//dtd internet explorer 3.0 html//", "-//microsoft//dtd internet explorer 3.0 tables//",
        "-//netscape comm. corp.//dtd html//", "-//netscape comm. corp.//dtd strict html//",
        "-//o'reilly and associates//dtd html 2.0//", "-//o'reilly and associates//dtd html extended 1.0//",
        "-//o'reilly and associates//dtd html extended relaxed 1.0//",
        "-//sq//dtd html 2.0 hotmetal + extensions//",
        "-//softquad software//dtd hotmetal pro 6.0::19990601::extensions to html 4.0//",
        "-//softquad//dtd hotmetal pro 4.0::19971010::extensions to html 4.0//",
        "-//spyglass//dtd html 2.0 extended//", "-//sun microsystems corp.//dtd hotjava html//",
        "-//sun microsystems corp.//dtd hotjava strict html//", "-//w3c//dtd html 3 1995-03-24//",
        "-//w3c//dtd html 3.2 draft//", "-//w3c//dtd html 3.2 final//", "-//w3c//dtd html 3.2//",
        "-//w3c//dtd html 3.2s draft//", "-//w3c//dtd html 4.0 frameset//", "-//w3c//dtd html 4.0 transitional//",
        "-//w3c//dtd html experimental 19960712//", "-//w3c//dtd html experimental 970421//",
        "-//w3c//dtd w3 html//", "-//w3o//dtd w3 html 3.0//", "-//webtechs//dtd mozilla html 2.0//",
        "-//webtechs//dtd mozilla html//",
    ].map { Array($0.utf8) }

    /// The doctype states of the tokenizer, over the page's bytes.
    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var at: Int

        mutating func read() -> Doctype {
            var doctype = Doctype()
            skipWhitespace()
            guard let first = peek(), first != 0x3E else {  // missing name
                doctype.forceQuirks = true
                return closed(doctype)
            }
            var name: [UInt8] = []
            while let byte = peek(), !MarkupBytes.isWhitespace(byte), byte != 0x3E {
                name.append(MarkupBytes.lower(byte))
                at += 1
            }
            doctype.name = name
            if let ended = ending(&doctype) { return ended }
            let isPublic = keyword("public")
            guard isPublic || keyword("system") else {
                doctype.forceQuirks = true
                return bogus(doctype)
            }
            guard let identifier = quoted(&doctype) else { return bogusOrClosed(doctype) }
            if isPublic {
                doctype.publicID = identifier
                if let ended = ending(&doctype) { return ended }
                guard let system = quoted(&doctype) else { return bogusOrClosed(doctype) }
                doctype.systemID = system
            } else {
                doctype.systemID = identifier
            }
            skipWhitespace()
            guard peek() != nil else {
                doctype.forceQuirks = true
                return doctype
            }
            return bogus(doctype)  // `>`, or anything before it (no quirks)
        }

        /// After optional whitespace, the doctype when it ends there: at its `>`, or (quirks) at
        /// the page's end; nil when more follows.
        private mutating func ending(_ doctype: inout Doctype) -> Doctype? {
            skipWhitespace()
            guard let next = peek() else {
                doctype.forceQuirks = true
                return doctype
            }
            return next == 0x3E ? closed(doctype) : nil
        }

        /// A quoted identifier after optional whitespace, past its closing quote; nil (quirks)
        /// when there is no quote, the `>` comes first or the page ends.
        private mutating func quoted(_ doctype: inout Doctype) -> [UInt8]? {
            skipWhitespace()
            guard let quote = peek(), quote == 0x22 || quote == 0x27 else {
                doctype.forceQuirks = true
                return nil
            }
            at += 1
            var identifier: [UInt8] = []
            while let byte = peek() {
                at += 1
                if byte == quote { return identifier }
                if byte == 0x3E {  // abrupt end: the doctype ends here
                    at -= 1
                    doctype.forceQuirks = true
                    return nil
                }
                identifier.append(byte)
            }
            doctype.forceQuirks = true
            return nil
        }

        private mutating func keyword(_ word: StaticString) -> Bool {
            let length = word.utf8CodeUnitCount
            guard at + length <= bytes.count else { return false }
            for offset in 0..<length where MarkupBytes.lower(bytes[at + offset]) != word.utf8Start[offset] { return false }
            at += length
            return true
        }

        private func peek() -> UInt8? { at < bytes.count ? bytes[at] : nil }

        private mutating func skipWhitespace() {
            while let byte = peek(), MarkupBytes.isWhitespace(byte) { at += 1 }
        }

        /// Past the `>` at ``at``.
        private mutating func closed(_ doctype: Doctype) -> Doctype {
            if peek() != nil { at += 1 }
            return doctype
        }

        private mutating func bogusOrClosed(_ doctype: Doctype) -> Doctype {
            peek() == 0x3E ? closed(doctype) : bogus(doctype)
        }

        /// Past the next `>` (a bogus doctype's end), or at the page's end.
        private mutating func bogus(_ doctype: Doctype) -> Doctype {
            at = MarkupBytes.find(0x3E, in: bytes, from: at).map { $0 + 1 } ?? bytes.count
            return doctype
        }
    }
}
