import Testing

@testable import ParseStage

@Suite("Date normalization")
struct DateNormalizerTests {
    @Test("dates as pages write them become ISO 8601", arguments: [
        ("2025-11-13T08:30:00+07:00", nil, "2025-11-13T08:30:00+07:00"),
        ("2025-11-13T01:30:00Z", nil, "2025-11-13T01:30:00Z"),
        ("2025-11-13T01:30:00.000+0000", nil, "2025-11-13T01:30:00Z"),
        ("2025-11-13 08:30", nil, "2025-11-13T08:30:00"),
        ("2025-11-13", nil, "2025-11-13"),
        ("13/11/2025", nil, "2025-11-13"),
        ("Thứ năm, 13/11/2025 08:30", "+07:00", "2025-11-13T08:30:00+07:00"),
        ("Thứ năm, 13/11/2025 08:30", nil, "2025-11-13T08:30:00"),
        ("08:30 13/11/2025 (GMT+7)", nil, "2025-11-13T08:30:00+07:00"),
        ("Cập nhật: 13-11-2025 - 8:05", "+07:00", "2025-11-13T08:05:00+07:00"),
        ("13 tháng 11 năm 2025", nil, "2025-11-13"),
        ("Thu, 13 Nov 2025 08:30:00 +0700", nil, "2025-11-13T08:30:00+07:00"),
        ("November 13, 2025 at 3:05 PM", nil, "2025-11-13T15:05:00"),
        ("Published 13 November 2025", nil, "2025-11-13"),
        ("Nov. 3rd, 2025", nil, "2025-11-03"),
        ("13.11.2025, 08:30 GMT", nil, "2025-11-13T08:30:00Z"),
        ("12/25/2025", nil, "2025-12-25"),
    ] as [(String, String?, String)])
    func normalizes(input: String, zone: String?, expected: String) {
        #expect(DateNormalizer.normalize(input, defaultZone: zone) == expected)
    }

    @Test("text without a plausible date gives nil", arguments: ["", "no date here", "99/99/2025", "Tin quốc tế", "10 người"])
    func rejects(input: String) {
        #expect(DateNormalizer.normalize(input) == nil)
    }

    @Test("dates in URL paths", arguments: [
        ("https://example.com/2025/11/13/cranes-return", "2025-11-13"),
        ("https://example.vn/tin-tuc-20251113083000.html", nil),
        ("https://example.vn/tin-tuc-20251113.htm", "2025-11-13"),
        ("https://example.com/news/cranes-return", nil),
    ] as [(String, String?)])
    func urls(url: String, expected: String?) {
        #expect(DateNormalizer.dateInURL(url) == expected)
    }
}
