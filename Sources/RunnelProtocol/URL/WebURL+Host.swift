extension WebURL {
    /// A URL's host as the standard's host parser returns it.
    enum Host: Sendable, Hashable {
        /// A domain in ASCII, lower case, punycode for non-ASCII labels (`xn--bcher-kva.de`).
        case domain(String)
        /// An IPv4 address as one 32-bit number.
        case ipv4(UInt32)
        /// An IPv6 address as eight 16-bit pieces.
        case ipv6([UInt16])
        /// A non-special URL's host, percent-encoded but otherwise as written.
        case opaque(String)
        /// The empty host of `file:///x`.
        case empty

        /// The host as the URL serialiser writes it: `127.0.0.1`, `[2001:db8::1]`.
        var serialized: String {
            switch self {
            case let .domain(name), let .opaque(name): name
            case .empty: ""
            case let .ipv4(address):
                [24, 16, 8, 0].map { String((address >> UInt32($0)) & 0xFF) }.joined(separator: ".")
            case let .ipv6(pieces): "[" + Self.serializeIPv6(pieces) + "]"
            }
        }

        /// The standard's host parser: `[…]` as IPv6, an opaque host for non-special schemes,
        /// else percent-decoded, mapped to ASCII (IDNA) and read as IPv4 when it ends in a number.
        static func parse(_ input: String, isOpaque: Bool) throws(ParseFailure) -> Host {
            if input.hasPrefix("[") {
                guard input.hasSuffix("]"), input.count >= 2 else {
                    throw ParseFailure("its IPv6 host \(input) has no closing ]")
                }
                return .ipv6(try parseIPv6(Array(input.unicodeScalars.dropFirst().dropLast())))
            }
            if isOpaque { return try parseOpaque(input) }
            let domain = String(decoding: PercentEncodeSet.percentDecode(input), as: UTF8.self)
            guard let ascii = WebURL.domainToASCII(domain) else {
                throw ParseFailure("its host \(input) is not a valid domain name")
            }
            if let bad = ascii.unicodeScalars.first(where: isForbiddenDomainCodePoint) {
                throw ParseFailure("its host \(input) contains \(describe(bad)), which a host cannot")
            }
            if endsInANumber(ascii) { return .ipv4(try parseIPv4(ascii)) }
            return .domain(ascii)
        }

        private static func parseOpaque(_ input: String) throws(ParseFailure) -> Host {
            if let bad = input.unicodeScalars.first(where: isForbiddenHostCodePoint) {
                throw ParseFailure("its host \(input) contains \(describe(bad)), which a host cannot")
            }
            var output = ""
            for scalar in input.unicodeScalars { PercentEncodeSet.c0Control.append(scalar, to: &output) }
            return .opaque(output)
        }

        static func isForbiddenHostCodePoint(_ c: Unicode.Scalar) -> Bool {
            switch c {
            case "\u{0}", "\t", "\n", "\r", " ", "#", "/", ":", "<", ">", "?", "@", "[", "\\", "]", "^", "|": true
            default: false
            }
        }

        static func isForbiddenDomainCodePoint(_ c: Unicode.Scalar) -> Bool {
            isForbiddenHostCodePoint(c) || c.value <= 0x1F || c == "%" || c.value == 0x7F
        }

        private static func describe(_ c: Unicode.Scalar) -> String {
            c.value > 0x20 && c.value < 0x7F ? "\"\(c)\"" : "U+" + String(c.value, radix: 16, uppercase: true)
        }

        // MARK: IPv4

        /// Whether the last label (ignoring one trailing dot) is a number, so the host is read as IPv4.
        static func endsInANumber(_ host: String) -> Bool {
            var parts = host.split(separator: ".", omittingEmptySubsequences: false)
            if parts.last == "" {
                if parts.count == 1 { return false }
                parts.removeLast()
            }
            guard let last = parts.last, !last.isEmpty else { return false }
            if last.unicodeScalars.allSatisfy(\.isASCIIDigit) { return true }
            return parseIPv4Number(last) != nil
        }

        /// `192.168.0.1`, `0xC0A80001`, `0300.0250.1`, `3232235521` and the other forms the standard reads.
        static func parseIPv4(_ host: String) throws(ParseFailure) -> UInt32 {
            var parts = host.split(separator: ".", omittingEmptySubsequences: false)
            if parts.last == "", parts.count > 1 { parts.removeLast() }
            guard parts.count <= 4 else { throw ParseFailure("its host \(host) has more than four IPv4 parts") }
            var numbers: [UInt64] = []
            for part in parts {
                guard let number = parseIPv4Number(part) else {
                    throw ParseFailure("its host \(host) is not a valid IPv4 address")
                }
                numbers.append(number)
            }
            if numbers.dropLast().contains(where: { $0 > 255 }) {
                throw ParseFailure("its host \(host) has an IPv4 part over 255")
            }
            let last = numbers.removeLast()
            guard last < UInt64(1) << (8 * (5 - UInt64(numbers.count + 1))) else {
                throw ParseFailure("its IPv4 host \(host) is out of range")
            }
            var address = last
            for (index, number) in numbers.enumerated() {
                address += number << (8 * (3 - UInt64(index)))
            }
            return UInt32(address)
        }

        /// One IPv4 part: decimal, `0x` hex or `0` octal; nil when not a number. Values past
        /// 2^32 saturate (they are out of range either way).
        static func parseIPv4Number(_ text: Substring) -> UInt64? {
            guard !text.isEmpty else { return nil }
            var digits = text.unicodeScalars[...]
            var radix: UInt64 = 10
            if digits.count >= 2, digits.first == "0", let x = digits.dropFirst().first, x == "x" || x == "X" {
                digits = digits.dropFirst(2)
                radix = 16
            } else if digits.count >= 2, digits.first == "0" {
                digits = digits.dropFirst()
                radix = 8
            }
            var value: UInt64 = 0
            for scalar in digits {
                guard scalar.isASCIIHexDigit, let digit = UInt64(String(scalar), radix: 16), digit < radix else {
                    return nil
                }
                value = min(value * radix + digit, UInt64(1) << 40)
            }
            return value
        }

        // MARK: IPv6

        /// The standard's IPv6 parser: eight pieces, `::` for a run of zeros, an IPv4 tail.
        static func parseIPv6(_ input: [Unicode.Scalar]) throws(ParseFailure) -> [UInt16] {
            let invalid = ParseFailure("its IPv6 host [\(String(String.UnicodeScalarView(input)))] is not a valid address")
            var address = [UInt16](repeating: 0, count: 8)
            var pieceIndex = 0
            var compress: Int?
            var pointer = 0
            func at(_ index: Int) -> Unicode.Scalar? { index < input.count ? input[index] : nil }

            if at(pointer) == ":" {
                guard at(pointer + 1) == ":" else { throw invalid }
                pointer += 2
                pieceIndex += 1
                compress = pieceIndex
            }
            while let c = at(pointer) {
                guard pieceIndex < 8 else { throw invalid }
                if c == ":" {
                    guard compress == nil else { throw invalid }
                    pointer += 1
                    pieceIndex += 1
                    compress = pieceIndex
                    continue
                }
                var value: UInt32 = 0
                var length = 0
                while length < 4, let h = at(pointer), h.isASCIIHexDigit {
                    value = value * 16 + UInt32(String(h), radix: 16)!
                    pointer += 1
                    length += 1
                }
                if at(pointer) == "." {
                    guard length > 0, pieceIndex <= 6 else { throw invalid }
                    pointer -= length
                    var numbersSeen = 0
                    while at(pointer) != nil {
                        if numbersSeen > 0 {
                            guard at(pointer) == ".", numbersSeen < 4 else { throw invalid }
                            pointer += 1
                        }
                        guard let first = at(pointer), first.isASCIIDigit else { throw invalid }
                        var piece: UInt32?
                        while let d = at(pointer), d.isASCIIDigit {
                            let number = d.value - 0x30
                            if let current = piece {
                                guard current != 0 else { throw invalid }
                                piece = current * 10 + number
                            } else {
                                piece = number
                            }
                            guard piece! <= 255 else { throw invalid }
                            pointer += 1
                        }
                        address[pieceIndex] = address[pieceIndex] &* 0x100 &+ UInt16(piece!)
                        numbersSeen += 1
                        if numbersSeen == 2 || numbersSeen == 4 { pieceIndex += 1 }
                    }
                    guard numbersSeen == 4 else { throw invalid }
                    break
                } else if at(pointer) == ":" {
                    pointer += 1
                    guard at(pointer) != nil else { throw invalid }
                } else if at(pointer) != nil {
                    throw invalid
                }
                address[pieceIndex] = UInt16(value)
                pieceIndex += 1
            }
            if let compress {
                var swaps = pieceIndex - compress
                pieceIndex = 7
                while pieceIndex != 0 && swaps > 0 {
                    address.swapAt(pieceIndex, compress + swaps - 1)
                    pieceIndex -= 1
                    swaps -= 1
                }
            } else if pieceIndex != 8 {
                throw invalid
            }
            return address
        }

        /// Lower-case hex pieces, the first longest run of two or more zero pieces as `::`.
        static func serializeIPv6(_ pieces: [UInt16]) -> String {
            var bestStart = -1, bestLength = 1
            var index = 0
            while index < pieces.count {
                guard pieces[index] == 0 else {
                    index += 1
                    continue
                }
                var end = index
                while end < pieces.count && pieces[end] == 0 { end += 1 }
                if end - index > bestLength {
                    bestStart = index
                    bestLength = end - index
                }
                index = end
            }
            var output = ""
            var ignore0 = false
            for (index, piece) in pieces.enumerated() {
                if ignore0 && piece == 0 { continue }
                ignore0 = false
                if index == bestStart {
                    output += index == 0 ? "::" : ":"
                    ignore0 = true
                    continue
                }
                output += String(piece, radix: 16)
                if index != 7 { output += ":" }
            }
            return output
        }
    }
}
