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
        // Foundation's NFC costs more than everything else here; skip it when no scalar could
        // change under it (text from the fetch stage is NFC already).
        let stable = string.unicodeScalars.allSatisfy { $0.value < 0x300 || !ScalarClasses.of($0).contains(.notNFCStable) }
        let nfc = stable ? string : string.precomposedStringWithCanonicalMapping
        var bytes: [UInt8] = []
        bytes.reserveCapacity(nfc.utf8.count)
        var pendingSpace = false
        for scalar in nfc.unicodeScalars {
            if scalar.isSpace {
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
