/// Turns the dates pages write into ISO 8601: `2025-11-13T08:30:00+07:00` when the time and zone
/// are known, `2025-11-13T08:30:00` without a zone, `2025-11-13` for a date alone.
///
/// Reads ISO 8601 and RFC 3339 (`2025-11-13T01:30:00Z`), RFC 2822 (`Thu, 13 Nov 2025 08:30:00
/// +0700`), day-first numeric dates (`13/11/2025`, `Thứ năm, 13/11/2025 08:30`, `13.11.2025`),
/// English month names (`November 13, 2025`, `13 Nov 2025`), Vietnamese (`13 tháng 11 năm 2025`),
/// `GMT+7` zones, and dates in URL paths (`/2025/11/13/`, `-20251113`).
///
/// ```swift
/// DateNormalizer.normalize("Thứ năm, 13/11/2025 08:30", defaultZone: "+07:00")
/// // "2025-11-13T08:30:00+07:00"
/// ```
public enum DateNormalizer {
    private enum Token: Equatable {
        case number(Int, digits: Int)
        case word(String)
        case symbol(Character)
    }

    private static let months: [String: Int] = [
        "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
        "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
        "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
    ]

    /// Normalizes the first date found in `text`.
    /// - Parameters:
    ///   - text: a date as a page writes it, possibly inside other words (`Cập nhật: 13/11/2025`).
    ///   - defaultZone: the zone (`+07:00`) to assume for a written time that names none.
    /// - Returns: the ISO 8601 form, or nil when `text` holds no plausible date.
    public static func normalize(_ text: String, defaultZone: String? = nil) -> String? {
        let tokens = tokenize(text)
        guard let (date, dateEnd) = findDate(tokens) else { return nil }
        let ymd = String(format4(date.year)) + "-" + two(date.month) + "-" + two(date.day)
        guard let time = findTime(tokens, preferringAfter: dateEnd) else { return ymd }
        var result = ymd + "T" + two(time.hour) + ":" + two(time.minute) + ":" + two(time.second)
        if let zone = time.zone ?? defaultZone { result += zone }
        return result
    }

    /// The date (day precision) in a URL path such as `/2025/11/13/slug` or `/slug-20251113.html`.
    public static func dateInURL(_ url: String) -> String? {
        var path = Substring(url)
        if let scheme = url.range(of: "://") {
            let rest = url[scheme.upperBound...]
            path = rest.firstIndex(of: "/").map { rest[$0...] } ?? ""
        }
        let tokens = tokenize(String(path))
        for (i, token) in tokens.enumerated() {
            if case let .number(year, 4) = token, i + 4 < tokens.count, (1995...2100).contains(year),
                case let .symbol(s1) = tokens[i + 1], s1 == "/" || s1 == "-",
                case let .number(month, _) = tokens[i + 2], case .symbol(s1) = tokens[i + 3],
                case let .number(day, dayDigits) = tokens[i + 4], dayDigits <= 2, valid(year, month, day)
            {
                return format4(year) + "-" + two(month) + "-" + two(day)
            }
            if case let .number(value, 8) = token {
                let year = value / 10000, month = value / 100 % 100, day = value % 100
                if (1995...2100).contains(year), valid(year, month, day) {
                    return format4(year) + "-" + two(month) + "-" + two(day)
                }
            }
        }
        return nil
    }

    // MARK: Pieces

    private static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        var number = 0, digits = 0
        var word = ""
        func end() {
            if digits > 0 {
                tokens.append(.number(digits > 9 ? -1 : number, digits: digits))
                number = 0
                digits = 0
            }
            if !word.isEmpty {
                tokens.append(.word(word.lowercased()))
                word = ""
            }
        }
        for scalar in text.unicodeScalars {
            if scalar.value >= 48 && scalar.value <= 57 {
                let value = Int(scalar.value - 48)
                if !word.isEmpty { end() }
                number = number &* 10 &+ value
                digits += 1
            } else if scalar.properties.isAlphabetic {
                if digits > 0 { end() }
                word.unicodeScalars.append(scalar)
            } else {
                end()
                if !scalar.properties.isWhitespace { tokens.append(.symbol(Character(scalar))) }
            }
            if tokens.count > 400 { break }
        }
        end()
        return tokens
    }

    private static func valid(_ year: Int, _ month: Int, _ day: Int) -> Bool {
        (1900...2100).contains(year) && (1...12).contains(month) && (1...31).contains(day)
    }

    private static func findDate(_ t: [Token]) -> ((year: Int, month: Int, day: Int), Int)? {
        var i = 0
        while i < t.count {
            // 2025-11-13, 2025/11/13, 2025.11.13
            if case let .number(year, 4) = t[i], i + 4 < t.count, case let .symbol(s) = t[i + 1], "-/.".contains(s),
                case let .number(month, md) = t[i + 2], md <= 2, t[i + 3] == .symbol(s),
                case let .number(day, dd) = t[i + 4], dd <= 2, valid(year, month, day)
            {
                return ((year, month, day), i + 5)
            }
            // 13/11/2025, 13-11-2025, 13.11.2025 (day first unless the month cannot be)
            if case let .number(a, ad) = t[i], ad <= 2, i + 4 < t.count, case let .symbol(s) = t[i + 1],
                "-/.".contains(s), case let .number(b, bd) = t[i + 2], bd <= 2, t[i + 3] == .symbol(s),
                case let .number(year, yd) = t[i + 4], yd == 4 || yd == 2
            {
                let fullYear = yd == 2 ? 2000 + year : year
                let (day, month) = b > 12 ? (b, a) : (a, b)
                if valid(fullYear, month, day) { return ((fullYear, month, day), i + 5) }
            }
            // November 13, 2025 / Nov. 13 2025
            if case let .word(name) = t[i], let month = months[name] {
                var j = i + 1
                if j < t.count, t[j] == .symbol(".") { j += 1 }
                if j < t.count, case let .number(day, dd) = t[j], dd <= 2 {
                    var k = j + 1
                    while k < t.count, case .symbol = t[k] { k += 1 }
                    if k < t.count, case .word(let suffix) = t[k], ["st", "nd", "rd", "th"].contains(suffix) { k += 1 }
                    while k < t.count, case .symbol = t[k] { k += 1 }
                    if k < t.count, case let .number(year, 4) = t[k], valid(year, month, day) {
                        return ((year, month, day), k + 1)
                    }
                }
            }
            // 13 November 2025, 13 Nov. 2025, 13th of November 2025, 13 tháng 11 năm 2025
            if case let .number(day, dd) = t[i], dd <= 2 {
                var j = i + 1
                if j < t.count, case .word(let suffix) = t[j], ["st", "nd", "rd", "th"].contains(suffix) { j += 1 }
                if j < t.count, t[j] == .word("of") { j += 1 }
                var month: Int?
                if j < t.count, case let .word(name) = t[j] {
                    if let m = months[name] {
                        month = m
                        j += 1
                    } else if name == "tháng", j + 1 < t.count, case let .number(m, _) = t[j + 1] {
                        month = m
                        j += 2
                    }
                }
                if let month {
                    while j < t.count, t[j] == .symbol(".") || t[j] == .symbol(",") || t[j] == .word("năm") { j += 1 }
                    if j < t.count, case let .number(year, 4) = t[j], valid(year, month, day) {
                        return ((year, month, day), j + 1)
                    }
                }
            }
            i += 1
        }
        return nil
    }

    private static func findTime(_ t: [Token], preferringAfter start: Int) -> (hour: Int, minute: Int, second: Int, zone: String?)? {
        var candidates: [Int] = []
        for i in t.indices where i + 2 < t.count {
            if case let .number(_, hd) = t[i], hd <= 2, t[i + 1] == .symbol(":"), case .number(_, 2) = t[i + 2] {
                candidates.append(i)
            }
        }
        guard let i = candidates.first(where: { $0 >= start }) ?? candidates.first else { return nil }
        guard case var .number(hour, _) = t[i], case let .number(minute, _) = t[i + 2], minute < 60 else { return nil }
        var second = 0
        var j = i + 3
        if j + 1 < t.count, t[j] == .symbol(":"), case let .number(s, 2) = t[j + 1], s < 61 {
            second = min(s, 59)
            j += 2
        }
        if j + 1 < t.count, t[j] == .symbol("."), case .number = t[j + 1] { j += 2 }  // fraction
        if j < t.count, case let .word(w) = t[j], w == "am" || w == "pm" || w == "a" || w == "p" {
            if w.hasPrefix("p"), hour < 12 { hour += 12 }
            if w.hasPrefix("a"), hour == 12 { hour = 0 }
            j += 1
            if j < t.count, t[j] == .symbol(".") { j += 1 }
            if j < t.count, t[j] == .word("m") { j += 1 }
        }
        guard hour < 24 else { return nil }
        return (hour, minute, second, zone(t, from: j) ?? namedZone(t))
    }

    private static func zone(_ t: [Token], from start: Int) -> String? {
        var j = start
        if j < t.count, t[j] == .symbol("(") { j += 1 }
        guard j < t.count else { return nil }
        var named = false
        if case let .word(w) = t[j] {
            if w == "z" { return "Z" }
            if w == "gmt" || w == "utc" {
                named = true
                j += 1
            } else if w == "tzd" || w == "ict" {
                return w == "ict" ? "+07:00" : nil
            } else {
                return nil
            }
        }
        guard j + 1 < t.count, case let .symbol(sign) = t[j], sign == "+" || sign == "-" || sign == "−",
            case let .number(value, digits) = t[j + 1]
        else { return named ? "Z" : nil }
        var hours = value, minutes = 0
        if digits == 4 {
            hours = value / 100
            minutes = value % 100
        } else if digits <= 2, j + 3 < t.count, t[j + 2] == .symbol(":"), case let .number(m, 2) = t[j + 3] {
            minutes = m
        } else if digits > 2 {
            return nil
        }
        guard hours <= 14, minutes < 60 else { return nil }
        if hours == 0 && minutes == 0 { return "Z" }
        return (sign == "+" ? "+" : "-") + two(hours) + ":" + two(minutes)
    }

    /// A `GMT+7` / `UTC-05:00` anywhere in the text.
    private static func namedZone(_ t: [Token]) -> String? {
        for i in t.indices where t[i] == .word("gmt") || t[i] == .word("utc") {
            if i + 1 < t.count, case .symbol = t[i + 1], let zone = zone(t, from: i) { return zone }
        }
        return nil
    }

    private static func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
    private static func format4(_ n: Int) -> String { String(n) }
}
