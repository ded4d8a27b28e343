/// Punycode (RFC 3492): the Bootstring encoding IDNA uses to write a Unicode label in ASCII.
///
/// ```swift
/// Punycode.encode(Array("bücher".unicodeScalars))  // "bcher-kva"
/// Punycode.decode("bcher-kva")                     // the scalars of "bücher"
/// ```
enum Punycode {
    private static let base = 36
    private static let tMin = 1
    private static let tMax = 26
    private static let skew = 38
    private static let damp = 700
    private static let initialBias = 72
    private static let initialN = 128

    /// The Punycode of `input`, without the `xn--` prefix; nil if a count overflows.
    static func encode(_ input: [Unicode.Scalar]) -> String? {
        var output = ""
        for scalar in input where scalar.isASCII { output.unicodeScalars.append(scalar) }
        let basicCount = output.unicodeScalars.count
        var handled = basicCount
        if basicCount > 0 { output += "-" }
        var n = initialN, delta = 0, bias = initialBias
        while handled < input.count {
            let m = Int(input.lazy.map(\.value).filter { $0 >= UInt32(n) }.min()!)
            let (step, overflow) = (m - n).multipliedReportingOverflow(by: handled + 1)
            guard !overflow, delta <= Int(Int32.max) - step else { return nil }
            delta += step
            n = m
            for scalar in input {
                let c = Int(scalar.value)
                if c < n {
                    delta += 1
                    guard delta <= Int(Int32.max) else { return nil }
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = threshold(k, bias: bias)
                        if q < t { break }
                        output.unicodeScalars.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        k += base
                    }
                    output.unicodeScalars.append(digit(q))
                    bias = adapt(delta, count: handled + 1, first: handled == basicCount)
                    delta = 0
                    handled += 1
                }
            }
            delta += 1
            n += 1
        }
        return output
    }

    /// The scalars `input` (without `xn--`) encodes; nil when it is not valid Punycode.
    static func decode(_ input: Substring) -> [Unicode.Scalar]? {
        let scalars = Array(input.unicodeScalars)
        guard scalars.allSatisfy(\.isASCII) else { return nil }
        var output: [Unicode.Scalar] = []
        var rest = scalars[...]
        if let dash = scalars.lastIndex(of: "-") {
            output = Array(scalars[..<dash])
            rest = scalars[(dash + 1)...]
        }
        var n = initialN, i = 0, bias = initialBias
        var index = rest.startIndex
        while index < rest.endIndex {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard index < rest.endIndex, let value = digitValue(rest[index]) else { return nil }
                index += 1
                let (product, overflow) = value.multipliedReportingOverflow(by: w)
                guard !overflow, i <= Int(Int32.max) - product else { return nil }
                i += product
                let t = threshold(k, bias: bias)
                if value < t { break }
                let (next, wOverflow) = w.multipliedReportingOverflow(by: base - t)
                guard !wOverflow, next <= Int(Int32.max) else { return nil }
                w = next
                k += base
            }
            let count = output.count + 1
            bias = adapt(i - oldI, count: count, first: oldI == 0)
            n += i / count
            i %= count
            guard n >= initialN, let scalar = Unicode.Scalar(UInt32(clamping: n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return output
    }

    private static func threshold(_ k: Int, bias: Int) -> Int {
        k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
    }

    private static func adapt(_ delta: Int, count: Int, first: Bool) -> Int {
        var delta = first ? delta / damp : delta / 2
        delta += delta / count
        var k = 0
        while delta > ((base - tMin) * tMax) / 2 {
            delta /= base - tMin
            k += base
        }
        return k + (base - tMin + 1) * delta / (delta + skew)
    }

    private static func digit(_ value: Int) -> Unicode.Scalar {
        Unicode.Scalar(UInt8(value < 26 ? 0x61 + value : 0x30 + value - 26))
    }

    private static func digitValue(_ scalar: Unicode.Scalar) -> Int? {
        switch scalar.value {
        case 0x30...0x39: Int(scalar.value) - 0x30 + 26
        case 0x41...0x5A: Int(scalar.value) - 0x41
        case 0x61...0x7A: Int(scalar.value) - 0x61
        default: nil
        }
    }
}
