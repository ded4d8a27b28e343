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
    ///
    /// The normalized bytes go straight to the hash: no String is made of them, and the title,
    /// line break and text are not joined into one first (issue 14).
    public static func of(title: String, text: String) -> String {
        var hasher = SHA256()
        normalized(title) { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        hasher.update(data: [UInt8(ascii: "\n")])
        normalized(text) { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        let digest = hasher.finalize()
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: 2 * SHA256.Digest.byteCount) { out in
            var k = 0
            for byte in digest {
                out[k] = digits[Int(byte >> 4)]
                out[k + 1] = digits[Int(byte & 0x0F)]
                k += 2
            }
            return k
        }
    }

    /// NFC, white space collapsed to single spaces, trimmed.
    public static func normalize(_ string: String) -> String {
        normalized(string) { String(decoding: $0, as: UTF8.self) }
    }

    /// Calls `body` with the UTF-8 bytes of `string` normalized as ``normalize(_:)`` says.
    private static func normalized<Result>(_ string: String, _ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        // Foundation's NFC costs more than everything else here: collapse first, and pay for NFC
        // only when a scalar that NFC could change turns up (text from fetch is NFC already).
        let collapsed = collapse(string, requireNFCStable: true) ?? collapse(string.precomposedStringWithCanonicalMapping, requireNFCStable: false)!
        return collapsed.withUnsafeBufferPointer(body)
    }

    /// The UTF-8 of `string` with white space collapsed and trimmed; nil if `requireNFCStable`
    /// and a scalar might change under NFC. Works on the bytes, decoding only non-ASCII scalars,
    /// and writes into room of the input's length, which the output never exceeds (a space is
    /// written only in place of one or more white-space bytes).
    private static func collapse(_ string: String, requireNFCStable: Bool) -> [UInt8]? {
        var string = string
        return string.withUTF8 { input -> [UInt8]? in
            var unstable = false
            let bytes = [UInt8](unsafeUninitializedCapacity: input.count) { out, written in
                var o = 0
                var pendingSpace = false
                var i = 0
                while i < input.count {
                    let b = input[i]
                    let length: Int
                    let isSpace: Bool
                    if b < 0x80 {
                        length = 1
                        isSpace = b == 0x20 || (b >= 0x09 && b <= 0x0D)
                    } else {
                        // A valid UTF-8 sequence (a Swift String's bytes always are).
                        length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2
                        var value = UInt32(b & (0xFF >> (length + 1)))
                        for k in 1..<length { value = value << 6 | UInt32(input[i + k] & 0x3F) }
                        let classes = Unicode.Scalar(value).map(ScalarClasses.of) ?? []
                        if requireNFCStable && value >= 0x300 && classes.contains(.notNFCStable) {
                            unstable = true
                            break
                        }
                        isSpace = classes.contains(.space)
                    }
                    if isSpace {
                        pendingSpace = o > 0
                    } else {
                        if pendingSpace {
                            out[o] = 0x20
                            o += 1
                            pendingSpace = false
                        }
                        for k in 0..<length { out[o + k] = input[i + k] }
                        o += length
                    }
                    i += length
                }
                written = o
            }
            return unstable ? nil : bytes
        }
    }
}
