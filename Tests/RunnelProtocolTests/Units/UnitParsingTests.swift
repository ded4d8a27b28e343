import Testing

@testable import RunnelProtocol

@Suite("Durations and sizes: one syntax, never a trap")
struct UnitParsingTests {
    @Test(
        "durations read as written",
        arguments: [
            ("250ms", Int64(250_000_000)), ("30s", 30_000_000_000), ("10m", 600_000_000_000), ("1h", 3_600_000_000_000),
            ("2d", 172_800_000_000_000), ("1h30m", 5_400_000_000_000), ("1.5s", 1_500_000_000), (".25s", 250_000_000),
            ("0s", 0), ("  45s ", 45_000_000_000), ("1H", 3_600_000_000_000), ("100us", 100_000), ("7ns", 7),
        ])
    func durations(text: String, nanoseconds: Int64) throws {
        #expect(try TimeSpan(parsing: text).nanoseconds == nanoseconds)
    }

    @Test(
        "a duration prints in its shortest exact spelling, which reads back the same",
        arguments: ["250ms", "30s", "10m", "1h", "1h30m", "2d", "1d1h1m1s", "1500ms", "0s", "100us"])
    func roundTrip(text: String) throws {
        let span = try TimeSpan(parsing: text)
        #expect(try TimeSpan(parsing: span.description) == span)
    }

    @Test("spellings are canonical", arguments: [("90s", "1m30s"), ("1500ms", "1500ms"), ("60m", "1h"), ("0.5s", "500ms")])
    func canonical(text: String, expected: String) throws {
        #expect(try TimeSpan(parsing: text).description == expected)
    }

    @Test(
        "malformed or out-of-range durations are refused with a reason, never a trap",
        arguments: [
            ("", "empty"), ("30", "has no unit"), ("soon", "before each unit"), ("10x", "not a unit of time"),
            ("-10m", "before each unit"), ("1e300d", "not a unit of time"), ("99999999999999999999d", "36500 days"),
            ("36501d", "36500 days"), ("1..5s", "is not a number"), ("5s3", "has no unit"),
        ])
    func refused(text: String, reason: String) {
        #expect {
            _ = try TimeSpan(parsing: text)
        } throws: { error in
            guard let error = error as? RunnelError else { return false }
            return error.code == .invalidArgument && error.message.contains(reason)
        }
    }

    @Test("a bare number is read in the legacy unit, and marked so the caller can warn")
    func legacy() throws {
        let span = try TimeSpan(parsing: "30", legacyUnit: .seconds(1))
        #expect(span == .seconds(30))
        #expect(span.isLegacy)
        #expect(try TimeSpan(parsing: "30s", legacyUnit: .seconds(1)).isLegacy == false)
        #expect(throws: RunnelError.self) { try TimeSpan(parsing: "1e300", legacyUnit: .seconds(1)) }
        #expect(throws: RunnelError.self) { try TimeSpan(parsing: "99999999999999", legacyUnit: .seconds(1)) }
    }

    @Test("a Swift Duration converts without trapping, clamped to the range")
    func fromDuration() {
        #expect(TimeSpan(.milliseconds(1500)) == .milliseconds(1500))
        #expect(TimeSpan(.seconds(-5)) == .zero)
        #expect(TimeSpan(.seconds(Int64.max)) == .maximum)
        #expect(TimeSpan.seconds(Int.max) == .maximum)
    }

    @Test(
        "sizes read as written",
        arguments: [
            ("65536", 65536), ("512KiB", 512 << 10), ("64MiB", 64 << 20), ("1GiB", 1 << 30), ("1.5GiB", 3 << 29),
            ("2TiB", 2 << 40), ("100B", 100), ("64mib", 64 << 20),
        ])
    func sizes(text: String, bytes: Int) throws {
        let size = try ByteSize(parsing: text)
        #expect(size.bytes == bytes)
        #expect(!size.isLegacy)
        #expect(try ByteSize(parsing: size.description) == size)
    }

    @Test("the old unit spellings still read, marked legacy", arguments: [("512k", 512 << 10), ("64MB", 64 << 20), ("1G", 1 << 30)])
    func legacySizes(text: String, bytes: Int) throws {
        let size = try ByteSize(parsing: text)
        #expect(size.bytes == bytes)
        #expect(size.isLegacy)
    }

    @Test(
        "malformed or out-of-range sizes are refused with a reason",
        arguments: [
            ("", "must start with a number"), ("MiB", "must start with a number"), ("-5", "must start with a number"),
            ("10 potatoes", "is not a unit"), ("2048TiB", "the most a size may be"),
            ("99999999999999999999999", "the most a size may be"),
        ])
    func refusedSizes(text: String, reason: String) {
        #expect {
            _ = try ByteSize(parsing: text)
        } throws: { error in
            (error as? RunnelError)?.message.contains(reason) == true
        }
    }
}
