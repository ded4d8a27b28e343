/// The WHATWG URL Standard's percent-encode sets: which code points a part of a URL writes as
/// `%XX` (of their UTF-8 bytes, upper-case hex). Each set holds the one before it.
///
/// | set | adds | used for |
/// |---|---|---|
/// | `c0Control` | U+0000–U+001F and everything above U+007E | opaque paths and hosts |
/// | `fragment` | space `"` `<` `>` `` ` `` | fragments |
/// | `query` | space `"` `#` `<` `>` | queries of non-special URLs |
/// | `specialQuery` | `'` | queries of special URLs |
/// | `path` | `?` `` ` `` `{` `}` (on top of `query`) | path segments |
/// | `userinfo` | `/` `:` `;` `=` `@` `[` `\` `]` `^` `|` | user names and passwords |
///
/// `%` itself is never encoded: a `%41` already in the input stays as written.
///
/// ```swift
/// var path = ""
/// PercentEncodeSet.path.append("é", to: &path)   // "%C3%A9"
/// ```
enum PercentEncodeSet {
    case c0Control, fragment, query, specialQuery, path, userinfo

    /// Whether the ASCII byte `byte` is in the set (every byte over 0x7E is).
    func contains(_ byte: UInt8) -> Bool {
        if byte < 0x20 || byte > 0x7E { return true }
        switch self {
        case .c0Control:
            return false
        case .fragment:
            return byte == 0x20 || byte == 0x22 || byte == 0x3C || byte == 0x3E || byte == 0x60
        case .query:
            return Self.inQuery(byte)
        case .specialQuery:
            return Self.inQuery(byte) || byte == 0x27
        case .path:
            return Self.inPath(byte)
        case .userinfo:
            switch byte {
            case 0x2F, 0x3A, 0x3B, 0x3D, 0x40, 0x5B...0x5E, 0x7C: return true
            default: return Self.inPath(byte)
            }
        }
    }

    private static func inQuery(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x22 || byte == 0x23 || byte == 0x3C || byte == 0x3E
    }

    private static func inPath(_ byte: UInt8) -> Bool {
        inQuery(byte) || byte == 0x3F || byte == 0x60 || byte == 0x7B || byte == 0x7D
    }

    /// Appends `scalar` to `output`, percent-encoding its UTF-8 bytes when it is in the set.
    func append(_ scalar: Unicode.Scalar, to output: inout String) {
        if scalar.isASCII, !contains(UInt8(scalar.value)) {
            output.unicodeScalars.append(scalar)
            return
        }
        for byte in String(scalar).utf8 {
            Self.appendEscaped(byte, to: &output)
        }
    }

    /// Appends `%XX` for `byte`.
    static func appendEscaped(_ byte: UInt8, to output: inout String) {
        let digits: [Unicode.Scalar] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "A", "B", "C", "D", "E", "F"]
        output.unicodeScalars.append("%")
        output.unicodeScalars.append(digits[Int(byte >> 4)])
        output.unicodeScalars.append(digits[Int(byte & 0x0F)])
    }

    /// The bytes `text` stands for, with each `%XX` decoded and anything else as its UTF-8.
    static func percentDecode(_ text: String) -> [UInt8] {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "%"), index + 2 < bytes.count,
                let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2])
            {
                output.append(high << 4 | low)
                index += 3
            } else {
                output.append(bytes[index])
                index += 1
            }
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
