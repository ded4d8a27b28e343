import Foundation
import RunnelProtocol
import RunnelReplay
import Testing

@Suite("Replay: clock, selection, log files")
struct ReplaySelectionTests {
    func message(_ id: String, type: String = "article.parsed", ts: String?, body: String = #"{"url":"https://x.vn/a"}"#, meta: [String: String] = [:]) throws -> Envelope {
        Envelope(id: id, type: type, ts: ts, meta: meta, body: try RawJSON(body))
    }

    @Test("the clock keeps the ts gaps, scaled by the speed, and never runs backwards")
    func clock() {
        var tenTimes = ReplayClock(speed: .times(10))
        #expect(tenTimes.due(ts: "2026-11-29T13:00:00.000Z") == .zero)
        #expect(tenTimes.due(ts: "2026-11-29T13:00:05.000Z") == .milliseconds(500))
        #expect(tenTimes.due(ts: nil) == .milliseconds(500), "no ts: due with the one before")
        #expect(tenTimes.due(ts: "2026-11-29T13:00:01.000Z") == .milliseconds(500), "an earlier ts does not go back")
        #expect(tenTimes.due(ts: "2026-11-29T14:00:00+01:00") == .milliseconds(500), "the same instant in another zone")
        #expect(tenTimes.due(ts: "2026-11-29T13:00:10.000Z") == .seconds(1))

        var original = ReplayClock(speed: .times(1))
        _ = original.due(ts: "2026-11-29T13:00:00Z")
        #expect(original.due(ts: "2026-11-29T13:00:02.5Z") == .milliseconds(2500))

        var fastest = ReplayClock(speed: .max)
        _ = fastest.due(ts: "2026-11-29T13:00:00Z")
        #expect(fastest.due(ts: "2026-11-29T15:00:00Z") == .zero)
    }

    @Test("--max-gap cuts each wait, so one timestamp a millennium ahead costs the gap, not the millennium")
    func maxGap() {
        var capped = ReplayClock(speed: .times(1), maxGap: .seconds(2))
        #expect(capped.due(ts: "2026-11-29T13:00:00Z") == .zero)
        #expect(capped.due(ts: "2026-11-29T13:00:01Z") == .seconds(1), "a gap under the cap is kept")
        #expect(capped.due(ts: "9999-12-31T00:00:00Z") == .seconds(3), "cut to 2 s")
        #expect(capped.due(ts: "2026-11-29T13:00:02Z") == .seconds(3), "behind the latest ts: at once")
        #expect(capped.due(ts: "9999-12-31T00:00:00.5Z") == .milliseconds(3500))

        var uncapped = ReplayClock(speed: .times(1))
        _ = uncapped.due(ts: "2026-11-29T13:00:00Z")
        #expect(uncapped.due(ts: "2026-11-29T13:01:00Z") == .seconds(60))
        #expect(uncapped.due(ts: "2026-11-29T13:00:30Z") == .seconds(60))
        #expect(uncapped.due(ts: "2026-11-29T13:02:00Z") == .seconds(120), "the pace of the original, from the latest ts")
    }

    @Test("--speed takes max or a positive factor")
    func speed() throws {
        #expect(try ReplayClock.Speed(parsing: "max") == .max)
        #expect(try ReplayClock.Speed(parsing: "10") == .times(10))
        #expect(try ReplayClock.Speed(parsing: "0.5") == .times(0.5))
        for bad in ["0", "-1", "fast", "inf", "", "1e-300", "nan", "1e300"] {
            #expect(throws: RunnelError.self) { try ReplayClock.Speed(parsing: bad) }
        }
        // The slowest factor over timestamps a century apart still gives a due time, not a trap.
        var slowest = ReplayClock(speed: try ReplayClock.Speed(parsing: "0.001"))
        _ = slowest.due(ts: "1970-01-01T00:00:00Z")
        #expect(slowest.due(ts: "2099-01-01T00:00:00Z") > .zero)
    }

    @Test("types, time bounds and field conditions select; all must hold")
    func selection() throws {
        var selection = Selection()
        selection.types = ["article.parsed"]
        selection.since = try Selection.time("2026-11-29T13:00:00Z")
        selection.until = try Selection.time("2026-11-29T14:00:00Z")
        selection.conditions = [try .init(parsing: "meta.site=vnexpress"), try .init(parsing: "body.n=3")]
        let body = #"{"url":"https://x.vn/a","n":3}"#
        let good = try message("a", ts: "2026-11-29T13:30:00Z", body: body, meta: ["site": "vnexpress"])
        #expect(selection.accepts(good))
        #expect(!selection.accepts(try message("b", type: "page.fetched", ts: "2026-11-29T13:30:00Z", body: body, meta: ["site": "vnexpress"])))
        #expect(!selection.accepts(try message("c", ts: "2026-11-29T12:59:59.999Z", body: body, meta: ["site": "vnexpress"])))
        #expect(!selection.accepts(try message("d", ts: "2026-11-29T14:00:00Z", body: body, meta: ["site": "vnexpress"])), "until is exclusive")
        #expect(!selection.accepts(try message("e", ts: nil, body: body, meta: ["site": "vnexpress"])), "no ts with a time bound")
        #expect(!selection.accepts(try message("f", ts: "2026-11-29T13:30:00Z", body: body, meta: ["site": "tuoitre"])))
        #expect(!selection.accepts(try message("g", ts: "2026-11-29T13:30:00Z", body: #"{"n":4}"#, meta: ["site": "vnexpress"])))
        #expect(Selection().accepts(try message("h", ts: nil)), "no selection takes everything")
    }

    @Test("times are RFC 3339 or how long ago; anything else is refused, nothing traps")
    func times() throws {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try Selection.time("10m", now: now) == 1_800_000_000_000 - 600_000)
        #expect(try Selection.time("1h30m", now: now) == 1_800_000_000_000 - 5_400_000)
        #expect(!Selection.isLegacyTime("10m"))
        // The old spelling with a minus sign still reads (the command warns).
        #expect(Selection.isLegacyTime("-10m"))
        #expect(try Selection.time("-10m", now: now) == 1_800_000_000_000 - 600_000)
        #expect(try Selection.time("-2h", now: now) == 1_800_000_000_000 - 7_200_000)
        #expect(try Selection.time("-1d", now: now) == 1_800_000_000_000 - 86_400_000)
        #expect(try Selection.time("2026-11-29T13:00:00+07:00") == Timestamp.parse("2026-11-29T06:00:00Z"))
        for bad in ["yesterday", "-10x", "10", "2026-11-29", "-1e300d", "99999999999999999999d", "36501d"] {
            #expect(throws: RunnelError.self) { try Selection.time(bad, now: now) }
        }
        #expect(throws: RunnelError.self) { try Selection.Condition(parsing: "no-equals") }
        #expect(try Selection.Condition(parsing: "body.url=https://a.vn/?x=1").value == "https://a.vn/?x=1")
    }

    @Test("a rotated log is read by its plain name, its files in number order; bad lines are reported, not fatal")
    func rotatedLog() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replay-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ ids: [String], extra: String = "") throws {
            let text = ids.map { #"{"id":"\#($0)","type":"t","body":{}}"# + "\n" }.joined() + extra
            try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        // 10 sorts before 2 as text, not as a number. (Plain lines in .zst files: readers detect.)
        try write("cap.000010.jsonl.zst", ["c"])
        try write("cap.000002.jsonl.zst", ["b"], extra: "{\"ctl\":\"drain\"}\nnot json\n")
        try write("cap.000001.jsonl.zst", ["a"])
        let problems = Problems()
        let messages = LogMessages(paths: [dir.appendingPathComponent("cap.jsonl.zst").path]) { error, _ in problems.add(error) }
        #expect(messages.map(\.envelope.id) == ["a", "b", "c"])
        #expect(problems.codes == [.invalidArgument], "the bad line is reported once; the control line is skipped")

        let missing = LogMessages(paths: [dir.appendingPathComponent("none.jsonl").path]) { error, _ in problems.add(error) }
        #expect(Array(missing).isEmpty)
        #expect(problems.codes.last == .notFound)
    }
}

final class Problems: @unchecked Sendable {
    private let lock = NSLock()
    private var errors: [RunnelError] = []
    func add(_ error: RunnelError) { lock.withLock { errors.append(error) } }
    var codes: [StatusCode] { lock.withLock { errors.map(\.code) } }
}
