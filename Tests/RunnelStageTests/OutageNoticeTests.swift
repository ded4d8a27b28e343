import Testing

@testable import RunnelStage

/// A peer that cannot be reached is reported again after 10 s, a minute and ten minutes of trying,
/// then hourly: driven here by instants, no clock waited on.
@Suite("A peer away: when it is said again")
struct OutageNoticeTests {
    @Test("after 10 s, 1 min, 10 min, then every hour; never twice for one threshold")
    func schedule() {
        let start = ContinuousClock.now
        var notice = OutageNotice(since: start)
        var reports: [Duration] = []
        // Tries every 2 s (the link's longest backoff) for three hours.
        for second in stride(from: 0, through: 3 * 3600, by: 2) {
            if let away = notice.due(at: start + .seconds(second)) { reports.append(away) }
        }
        #expect(reports == [.seconds(10), .seconds(60), .seconds(600), .seconds(4200), .seconds(7800)])
    }

    @Test("a long gap between tries (a suspended machine) makes one report, not one per threshold passed")
    func longGap() {
        let start = ContinuousClock.now
        var notice = OutageNotice(since: start)
        #expect(notice.due(at: start + .seconds(5)) == nil)
        #expect(notice.due(at: start + .seconds(2000)) == .seconds(2000))
        #expect(notice.due(at: start + .seconds(2002)) == nil)
        #expect(notice.due(at: start + .seconds(4200)) == .seconds(4200))
    }
}
