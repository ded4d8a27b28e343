import Foundation

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
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ part: String) {
            var pendingSpace = false
            var started = false
            for byte in normalized(part).utf8 {
                if byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D || byte == 0x0B || byte == 0x0C {
                    pendingSpace = started
                    continue
                }
                if pendingSpace {
                    hash = (hash ^ 0x20) &* 0x0000_0100_0000_01B3
                    pendingSpace = false
                }
                started = true
                hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
            }
        }
        feed(title)
        hash = (hash ^ 0x0A) &* 0x0000_0100_0000_01B3
        feed(text)
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// `text` in NFC. Text from the parse stage is NFC already; only text holding combining
    /// marks (or conjoining Hangul jamo) is normalized, which keeps the common case fast.
    static func normalized(_ text: String) -> String {
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0300...0x036F, 0x1100...0x11FF, 0x1AB0...0x1AFF, 0x1DC0...0x1DFF, 0x20D0...0x20FF, 0xFE20...0xFE2F:
                return text.precomposedStringWithCanonicalMapping
            default:
                continue
            }
        }
        return text
    }
}
