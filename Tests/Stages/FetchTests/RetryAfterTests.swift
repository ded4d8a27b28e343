import Foundation
import Testing

@testable import FetchStage

/// `Retry-After` in its two forms.
@Suite struct RetryAfterTests {
    @Test func seconds() {
        #expect(RetryAfter.parse("1") == .seconds(1))
        #expect(RetryAfter.parse(" 120 ") == .seconds(120))
        #expect(RetryAfter.parse("-5") == .seconds(0))
        #expect(RetryAfter.parse("soon") == nil)
    }

    @Test func httpDate() {
        let now = Date(timeIntervalSince1970: 1_795_000_000)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        let later = formatter.string(from: now.addingTimeInterval(30))
        #expect(RetryAfter.parse(later, now: now) == .seconds(30))
        let past = formatter.string(from: now.addingTimeInterval(-30))
        #expect(RetryAfter.parse(past, now: now) == .zero)
    }
}
