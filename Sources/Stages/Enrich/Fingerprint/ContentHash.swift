import Crypto
import Foundation

/// The content hash: SHA-256, in lower-case hex, of the normalized title and text.
///
/// Normalization makes hashes equal for texts that differ only in how they were encoded or laid
/// out: each of title and text is put in Unicode NFC, every run of white space (line breaks
/// included) becomes one space, and leading and trailing space goes; the hash covers
/// `title + "\n" + text` (the line break cannot occur in either after normalization, so the
/// two parts cannot be confused).
///
/// ```swift
/// ContentHash.of(title: "Tiêu đề", text: "Nội  dung\n\nbài") // 64 hex digits
/// ```
public enum ContentHash {
    /// The hash of an article's title and text.
    public static func of(title: String, text: String) -> String {
        let input = normalize(title) + "\n" + normalize(text)
        let digest = SHA256.hash(data: Array(input.utf8))
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// NFC, white space collapsed to single spaces, trimmed.
    public static func normalize(_ string: String) -> String {
        // Foundation's NFC costs more than everything else here: collapse first, and pay for NFC
        // only when a scalar that NFC could change turns up (text from fetch is NFC already).
        if let collapsed = collapse(string, requireNFCStable: true) { return collapsed }
        return collapse(string.precomposedStringWithCanonicalMapping, requireNFCStable: false)!
    }

    /// `string` with white space collapsed and trimmed; nil if `requireNFCStable` and a scalar
    /// might change under NFC.
    private static func collapse(_ string: String, requireNFCStable: Bool) -> String? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(string.utf8.count)
        var pendingSpace = false
        for scalar in string.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                if v == 0x20 || (v >= 0x09 && v <= 0x0D) {
                    pendingSpace = !bytes.isEmpty
                    continue
                }
                if pendingSpace {
                    bytes.append(0x20)
                    pendingSpace = false
                }
                bytes.append(UInt8(v))
                continue
            }
            let classes = ScalarClasses.of(scalar)
            if requireNFCStable && v >= 0x300 && classes.contains(.notNFCStable) { return nil }
            if classes.contains(.space) {
                pendingSpace = !bytes.isEmpty
                continue
            }
            if pendingSpace {
                bytes.append(0x20)
                pendingSpace = false
            }
            UTF8.encode(scalar) { bytes.append($0) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
