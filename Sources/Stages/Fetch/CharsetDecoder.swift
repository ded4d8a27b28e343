import CJSONScan
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Decodes a page's bytes to a Swift string (UTF-8) in Unicode NFC.
///
/// UTF-8 is validated natively; windows-1252 (and the labels the WHATWG standard maps onto it:
/// iso-8859-1, latin1, us-ascii) and windows-1258 through built-in tables, so they never depend
/// on the platform; anything else through glibc's iconv. windows-1258 writes Vietnamese tones as
/// combining marks after the vowel, which NFC composes into the precomposed letters every other
/// source of Vietnamese text uses (`a` + U+0301 → `á`).
///
/// ```swift
/// let text = try CharsetDecoder.decode([0x50, 0x68, 0x61, 0xEC, 0x69], charset: "windows-1258")  // "Phái"
/// ```
public enum CharsetDecoder {
    /// Why bytes could not be decoded.
    public enum Failure: Error, Sendable, Hashable {
        /// The charset is not one this system can decode.
        case unknownCharset(String)
        /// The byte at this offset starts no valid sequence in the charset.
        case invalidBytes(offset: Int)
    }

    /// Decodes `bytes` in `charset` (a label as found in a page) and normalizes to NFC.
    /// - Throws: ``Failure``.
    public static func decode(_ bytes: ArraySlice<UInt8>, charset: String) throws(Failure) -> String {
        let text: String
        switch canonicalName(charset) {
        case "utf-8":
            guard let valid = String(validating: bytes, as: UTF8.self) else {
                throw .invalidBytes(offset: firstInvalidUTF8(bytes) ?? 0)
            }
            text = valid
        case "windows-1252":
            text = singleByte(bytes, table: windows1252High)
        case "windows-1258":
            text = singleByte(bytes, table: windows1258High)
        case let other:
            text = try iconv(bytes, from: other)
        }
        return normalized(text)
    }

    /// `text` in NFC. Most pages already are (``isNFC(_:)``); of the others, only the runs of
    /// scalars that are not plain and not in NFC are normalized, each on its own, and the rest is
    /// copied as it is: a plain scalar is a boundary no normalization crosses (see ``isNFC(_:)``),
    /// so NFC of the whole is NFC of each run. A 500 KB page with eight decomposed words took 250
    /// M instructions through the whole-text normalization, more than fetching 60 other pages
    /// (issue 14); windows-1258 pages, decomposed throughout, are normalized syllable by syllable.
    ///
    /// The standard library normalizes (its `_nfcCodeUnits`, what String comparison uses), not
    /// Foundation: on Linux Foundation leaves a Hangul syllable and the final jamo after it
    /// apart (가 + ᆨ stays two scalars, not 각), and it takes three times as long on
    /// decomposed Vietnamese (~64 against ~22 ns a byte).
    static func normalized(_ text: String) -> String {
        var text = text
        let composed = text.withUTF8 { utf8 -> [UInt8]? in
            var out: [UInt8] = []
            var copied = 0
            var changed = false
            _ = forEachMixedRun(utf8) { run in
                let bytes = UnsafeBufferPointer(rebasing: utf8[run])
                guard !isNFCRun(bytes) else { return true }
                if !changed { out.reserveCapacity(utf8.count + utf8.count / 8) }
                changed = true
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied..<run.lowerBound]))
                out.append(contentsOf: String(decoding: bytes, as: UTF8.self)._nfcCodeUnits)
                copied = run.upperBound
                return true
            }
            guard changed else { return nil }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[copied...]))
            return out
        }
        guard let composed else { return text }
        return String(decoding: composed, as: UTF8.self)
    }

    /// Whether bytes are valid UTF-8 in NFC.
    ///
    /// Most of a page is scalars no neighbour can change (``isPlainlyNFC(_:)``), read sixteen
    /// ASCII bytes at a time; the standard library checks only the runs of other scalars, each
    /// with the plain scalar before it (which a mark after it could combine with). A plain
    /// scalar starts no composition with what precedes it and stops every reordering, so the
    /// text is NFC exactly when each run is. A third of the corpus pages hold a few such
    /// scalars (`€`, `™`, `→`, an emoji) in 160 KB of plain ones; checking the whole page
    /// then cost fetch a tenth of its CPU (issue 14).
    static func isNFC(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        forEachMixedRun(utf8) { run in isNFCRun(UnsafeBufferPointer(rebasing: utf8[run])) }
    }

    /// Whether bytes are valid UTF-8, read as ``isNFC(_:)`` reads them: the plain scalars in C,
    /// sixteen ASCII bytes at a time, only the runs of others by the standard library. (Making
    /// a String to find out, as detecting a page's charset did, checked a 300 KB page at ten
    /// instructions a byte, and the page was checked again when it was decoded.)
    static func isValidUTF8(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        forEachMixedRun(utf8) { run in (try? UTF8Span(validating: UnsafeBufferPointer(rebasing: utf8[run]).span)) != nil }
    }

    /// Calls `body` with each run of scalars that are not plain, together with the plain scalar
    /// before it (none at the text's start), in order, while it returns true. Returns false
    /// when `body` did, or at bytes that are not UTF-8; true at the end.
    private static func forEachMixedRun(_ utf8: UnsafeBufferPointer<UInt8>, _ body: (Range<Int>) -> Bool) -> Bool {
        let count = utf8.count
        var i = 0
        while true {
            let plain = plainRun(utf8, from: i)
            if plain.end == count { return true }
            var end = plain.end
            repeat {
                guard let length = sequenceLength(lead: utf8[end]), end + length <= count else { return false }
                end += length
            } while end < count && runnel_plain_scalar_length(utf8.baseAddress!, count, end) == 0
            guard body((plain.lastScalar ?? plain.end)..<end) else { return false }
            i = end
        }
    }

    /// Whether a run is valid UTF-8 in NFC, by the standard library's check.
    private static func isNFCRun(_ run: UnsafeBufferPointer<UInt8>) -> Bool {
        guard var span = try? UTF8Span(validating: run.span) else { return false }
        return span.checkForNFC(quickCheck: false)
    }

    /// Whether bytes are valid UTF-8 holding only scalars that are NFC whatever surrounds them
    /// (none decomposes, combines with its neighbour or has a combining class), checked sixteen
    /// ASCII bytes at a time, and the ASCII bytes before a word's first other byte in one step.
    /// Those scalars are the ones `runnel_plain_scalar_run` names; they cover the text of most
    /// pages in Latin, Vietnamese, Greek, Cyrillic, Chinese and Japanese script. `false` for
    /// bytes that are not UTF-8 (a lead byte out of place, an overlong form, a missing
    /// continuation byte) as for text with other scalars.
    ///
    /// ``isNFC(_:)`` rests on what this says of the plain scalars; `PlainlyNFCTests` checks it
    /// over every scalar there is.
    static func isPlainlyNFC(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        plainRun(utf8, from: 0).end == utf8.count
    }

    /// How far the plain scalars go from `start`: where the first other scalar (or byte that
    /// is not UTF-8) begins, or the end; and where the last plain scalar before it begins (nil
    /// when there is none). In C (`runnel_plain_scalar_run`), sixteen ASCII bytes at a time:
    /// checking scalar by scalar here was a twentieth of fetch's CPU on Vietnamese pages.
    static func plainRun(_ utf8: UnsafeBufferPointer<UInt8>, from start: Int) -> (end: Int, lastScalar: Int?) {
        guard let base = utf8.baseAddress else { return (0, nil) }
        var last = -1
        let end = runnel_plain_scalar_run(base, utf8.count, start, &last)
        return (end, last < 0 ? nil : last)
    }

    /// The length of the UTF-8 sequence a byte leads, or nil when it leads none (ASCII aside:
    /// this is for bytes that are not plain scalars, which ASCII always is).
    private static func sequenceLength(lead: UInt8) -> Int? {
        switch lead {
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: nil
        }
    }

    /// The bytes of a UTF-8 page that ``decode(_:charset:)`` would give back unchanged: valid
    /// UTF-8 in NFC (``isNFC(_:)``, which checks the encoding in the same pass), without the
    /// String whose making would check them a second time. nil for any other page, which
    /// ``decode(_:charset:)`` decodes.
    public static func utf8InNFC(_ bytes: ArraySlice<UInt8>, charset: String) -> [UInt8]? {
        guard canonicalName(charset) == "utf-8", bytes.withUnsafeBufferPointer(isNFC) else { return nil }
        return Array(bytes)
    }

    /// Decodes a whole array.
    public static func decode(_ bytes: [UInt8], charset: String) throws(Failure) -> String {
        try decode(bytes[...], charset: charset)
    }

    /// The name a label decodes as: the WHATWG aliases for the charsets this file handles itself,
    /// the label upper-cased for iconv otherwise.
    static func canonicalName(_ label: String) -> String {
        let name = label.lowercased()
        switch name {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return "utf-8"
        case "windows-1252", "cp1252", "x-cp1252", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1",
            "us-ascii", "ascii", "iso-ir-100", "cp819", "ibm819", "csisolatin1", "iso_8859-1:1987":
            return "windows-1252"
        case "windows-1258", "cp1258", "x-cp1258": return "windows-1258"
        case "gb2312", "x-gbk", "gbk", "csgb2312", "chinese": return "GBK"
        case "tis-620", "iso-8859-11", "windows-874", "dos-874": return "CP874"
        case "x-sjis", "shift-jis", "sjis", "ms_kanji", "windows-31j": return "SHIFT_JIS"
        default: return name.uppercased()
        }
    }

    /// The offset of the first byte that is not part of valid UTF-8, or `nil` when all are.
    public static func firstInvalidUTF8(_ bytes: some Collection<UInt8>) -> Int? {
        let array = Array(bytes)
        var i = 0
        let n = array.count
        while i < n {
            let b = array[i]
            if b < 0x80 {
                i += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch b {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return i
            }
            guard i + length <= n else { return i }
            guard (low...high).contains(array[i + 1]) else { return i }
            for k in 2..<max(length, 2) where !(0x80...0xBF).contains(array[i + k]) { return i }
            i += length
        }
        return nil
    }

    // MARK: Single-byte tables

    /// Decodes a single-byte charset whose upper half is `table` (scalars of the BMP, none a
    /// surrogate: one to three bytes of UTF-8 each), writing the UTF-8 straight into the String.
    /// (Appending each byte's scalar to a `UnicodeScalarView` took ~460 instructions a byte:
    /// windows-1252 pages of 100 KB cost fetch more than any other part of them, issue 14.)
    private static func singleByte(_ bytes: ArraySlice<UInt8>, table: [UInt16]) -> String {
        guard !bytes.isEmpty else { return "" }
        return bytes.withUnsafeBufferPointer { input in
            table.withUnsafeBufferPointer { table in
                String(unsafeUninitializedCapacity: input.count * 3) { out in
                    var o = 0
                    for byte in input {
                        if byte < 0x80 {
                            out[o] = byte
                            o += 1
                            continue
                        }
                        let value = table[Int(byte) - 0x80]
                        if value < 0x800 {
                            out[o] = 0xC0 | UInt8(value >> 6)
                            out[o + 1] = 0x80 | UInt8(value & 0x3F)
                            o += 2
                        } else {
                            out[o] = 0xE0 | UInt8(value >> 12)
                            out[o + 1] = 0x80 | UInt8(value >> 6 & 0x3F)
                            out[o + 2] = 0x80 | UInt8(value & 0x3F)
                            o += 3
                        }
                    }
                    return o
                }
            }
        }
    }

    /// 0x80–0x9F of windows-1252; undefined bytes map to the C1 control of the same value (as
    /// the WHATWG standard does), and 0xA0–0xFF are Latin-1.
    private static let windows1252High: [UInt16] = {
        var table = (0x80...0xFF).map { UInt16($0) }
        let c1: [UInt16] = [
            0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D,
            0x017D, 0x8F, 0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A,
            0x0153, 0x9D, 0x017E, 0x0178,
        ]
        table.replaceSubrange(0..<32, with: c1)
        return table
    }()

    /// windows-1258: windows-1252 with Vietnamese letters, the five tone marks as combining
    /// characters, and the đồng sign.
    private static let windows1258High: [UInt16] = {
        var table = windows1252High
        // 0x8A Š, 0x8E Ž, 0x9A š, 0x9E ž are undefined in windows-1258.
        for byte in [0x8A, 0x8E, 0x9A, 0x9E] { table[byte - 0x80] = UInt16(byte) }
        let vietnamese: [Int: UInt16] = [
            0xC3: 0x0102, 0xCC: 0x0300, 0xD0: 0x0110, 0xD2: 0x0309, 0xD5: 0x01A0, 0xDD: 0x01AF, 0xDE: 0x0303,
            0xE3: 0x0103, 0xEC: 0x0301, 0xF0: 0x0111, 0xF2: 0x0323, 0xF5: 0x01A1, 0xFD: 0x01B0, 0xFE: 0x20AB,
        ]
        for (byte, scalar) in vietnamese { table[byte - 0x80] = scalar }
        return table
    }()

    // MARK: iconv

    private static func iconv(_ bytes: ArraySlice<UInt8>, from charset: String) throws(Failure) -> String {
        let converter = iconv_open("UTF-8", charset)
        guard let converter, converter != UnsafeMutableRawPointer(bitPattern: -1) else { throw .unknownCharset(charset) }
        defer { iconv_close(converter) }
        var input = Array(bytes)
        var output = [UInt8](repeating: 0, count: max(input.count * 2, 64))
        var produced = 0
        var consumed = 0
        var failure: Failure?
        input.withUnsafeMutableBytes { inputRaw in
            while consumed < inputRaw.count {
                var inPointer: UnsafeMutablePointer<CChar>? =
                    inputRaw.baseAddress!.assumingMemoryBound(to: CChar.self) + consumed
                var inLeft = inputRaw.count - consumed
                let result: Int = output.withUnsafeMutableBytes { outputRaw in
                    var outPointer: UnsafeMutablePointer<CChar>? =
                        outputRaw.baseAddress!.assumingMemoryBound(to: CChar.self) + produced
                    var outLeft = outputRaw.count - produced
                    let result = Glibc.iconv(converter, &inPointer, &inLeft, &outPointer, &outLeft)
                    produced = outputRaw.count - outLeft
                    return result
                }
                consumed = inputRaw.count - inLeft
                if result != -1 { break }
                if errno == E2BIG {
                    output.append(contentsOf: [UInt8](repeating: 0, count: output.count))
                } else {
                    failure = .invalidBytes(offset: consumed)
                    return
                }
            }
        }
        if let failure { throw failure }
        return String(decoding: output[..<produced], as: UTF8.self)
    }
}
