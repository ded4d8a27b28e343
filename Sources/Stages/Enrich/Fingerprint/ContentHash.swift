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
    /// might change under NFC. Works on the UTF-8 bytes, decoding only non-ASCII scalars.
    private static func collapse(_ string: String, requireNFCStable: Bool) -> String? {
        var string = string
        return string.withUTF8 { input -> String? in
            var bytes: [UInt8] = []
            bytes.reserveCapacity(input.count)
            var pendingSpace = false
            var i = 0
            while i < input.count {
                let b = input[i]
                if b < 0x80 {
                    if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                        pendingSpace = !bytes.isEmpty
                    } else {
                        if pendingSpace {
                            bytes.append(0x20)
                            pendingSpace = false
                        }
                        bytes.append(b)
                    }
                    i += 1
                    continue
                }
                // A valid UTF-8 sequence (a Swift String's bytes always are).
                let length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                var value = UInt32(b & (0xFF >> (length + 1)))
                for k in 1..<length { value = value << 6 | UInt32(input[i + k] & 0x3F) }
                let classes = Unicode.Scalar(value).map(ScalarClasses.of) ?? []
                if requireNFCStable && value >= 0x300 && classes.contains(.notNFCStable) { return nil }
                if classes.contains(.space) {
                    pendingSpace = !bytes.isEmpty
                } else {
                    if pendingSpace {
                        bytes.append(0x20)
                        pendingSpace = false
                    }
                    bytes.append(contentsOf: input[i..<(i + length)])
                }
                i += length
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
