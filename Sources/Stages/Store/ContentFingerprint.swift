import Foundation
import RunnelProtocol

/// A stable 64-bit fingerprint of an article's content, for telling a new version from a
/// redelivery when no `content_hash` came with it.
///
/// It is FNV-1a (64-bit, offset basis 0xcbf29ce484222325, prime 0x100000001b3) over the UTF-8
/// bytes of the normalized title, a `\n`, and the normalized text, written as 16 lower-case hex
/// digits. Normalizing means Unicode NFC (applied when the text holds combining marks), every run of whitespace collapsed to one space, and the
/// ends trimmed, so re-wrapping or a changed blank line is not a new version. FNV-1a is not a
/// cryptographic hash: it detects change, it does not authenticate. (SHA-256, as the enrich
/// stage computes, would need swift-crypto; this needs nothing.)
///
/// ```swift
/// ContentFingerprint.of(title: "Tin", text: "Một  đoạn.\n\nHai.") // "…16 hex digits…"
/// ```
public enum ContentFingerprint {
    /// The fingerprint of a title and text, as 16 hex digits.
    public static func of(title: String, text: String) -> String {
        var hash = FNV1a.offsetBasis
        func feed(_ part: String) {
            var part = part
            // One pass hashes and watches for combining marks; the rare part that has one is
            // hashed again in NFC.
            let start = hash
            if part.withUTF8({ hashCollapsingSpaces($0, into: &hash) }) {
                hash = start
                var composed = part.precomposedStringWithCanonicalMapping
                _ = composed.withUTF8 { hashCollapsingSpaces($0, into: &hash, watchingMarks: false) }
            }
        }
        feed(title)
        hash = FNV1a.adding(0x0A, to: hash)
        feed(text)
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// Feeds `utf8` to FNV-1a with every run of whitespace as one space and both ends trimmed.
    /// - Returns: whether it stopped at a combining mark (``mayHoldMarks(_:)``), when watching.
    ///
    /// FNV-1a takes a byte at a time at a multiply's latency, so the loop around it must cost
    /// next to nothing: the bytes from `!` to 0xCB (ASCII that is not a space, continuation
    /// bytes, the lead bytes of U+0080–U+02FF) and the letters of U+1E80–U+1EFF need no check
    /// but their range, and are hashed in an inner loop of their own; spaces and the lead bytes
    /// that may begin a mark take the outer.
    private static func hashCollapsingSpaces(
        _ utf8: UnsafeBufferPointer<UInt8>, into hash: inout UInt64, watchingMarks: Bool = true
    ) -> Bool {
        guard var p = utf8.baseAddress else { return false }
        let end = p + utf8.count
        var h = hash
        var pendingSpace = false
        var started = false
        while p < end {
            var byte = p.pointee
            if byte == 0x20 || byte &- 0x09 < 5 {  // space, \t \n \v \f \r
                pendingSpace = started
                p += 1
                continue
            }
            if watchingMarks && byte >= 0xCC && isMark(p) { return true }
            if pendingSpace {
                h = FNV1a.adding(0x20, to: h)
                pendingSpace = false
            }
            started = true
            h = FNV1a.adding(byte, to: h)
            p += 1
            while p < end {
                byte = p.pointee
                if byte &- 0x21 < 0xAB {  // 0x21...0xCB
                    h = FNV1a.adding(byte, to: h)
                    p += 1
                } else if byte == 0xE1 && p[1] & 0xFE == 0xBA {
                    // U+1E80–U+1EFF (Vietnamese's ạ to ỹ among them): never a mark.
                    h = FNV1a.adding(p[2], to: FNV1a.adding(p[1], to: FNV1a.adding(0xE1, to: h)))
                    p += 3
                } else {
                    break
                }
            }
        }
        hash = h
        return false
    }

    /// Whether valid UTF-8 holds a scalar of U+0300–U+036F, U+1100–U+11FF, U+1AB0–U+1AFF,
    /// U+1DC0–U+1DFF, U+20D0–U+20FF or U+FE20–U+FE2F, read from the bytes without decoding
    /// the others.
    static func mayHoldMarks(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = utf8.count
        var i = 0
        while i < count {
            // Skip eight ASCII bytes at a time.
            if i + 8 <= count,
                UnsafeRawPointer(utf8.baseAddress! + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0
            {
                i += 8
                continue
            }
            if isMark(utf8.baseAddress! + i) { return true }
            i += 1
        }
        return false
    }

    /// Whether the scalar that starts at `p` (a lead byte of valid UTF-8, or any other byte)
    /// is one of the marks ``mayHoldMarks(_:)`` looks for.
    @inline(__always)
    private static func isMark(_ p: UnsafePointer<UInt8>) -> Bool {
        switch p[0] {
        case 0xCC:  // U+0300–U+033F
            return true
        case 0xCD:  // U+0340–U+037F
            return p[1] < 0xB0
        case 0xE1:
            let second = p[1]
            let third = p[2]
            // U+1100–U+11FF, U+1AB0–U+1AFF, U+1DC0–U+1DFF
            return (0x84...0x87).contains(second) || (second == 0xAA && third >= 0xB0) || second == 0xAB || second == 0xB7
        case 0xE2:
            return p[1] == 0x83 && p[2] >= 0x90  // U+20D0–U+20FF
        case 0xEF:
            return p[1] == 0xB8 && (0xA0...0xAF).contains(p[2])  // U+FE20–U+FE2F
        default:
            return false
        }
    }
}
