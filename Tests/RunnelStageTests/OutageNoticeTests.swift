import Logging
import RunnelProtocol
import Synchronization
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

/// A NATS server away: said at once, then on the notice's schedule while the connector keeps
/// trying, and once more when it is back (it was said only once, then nothing for hours).
@Suite("A NATS server away: what the stage says")
struct NatsOutageTests {
    private final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        var output: LogOutput { LogOutput { line in self.lines.withLock { $0.append(line) } } }
    }

    @Test("the first failure, then again after 10 s and a minute of tries, then that it is back")
    func reminders() {
        let lines = Lines()
        let logger = Logger(label: "runnel") { label in RunnelLogHandler(label: label, settings: LogSettings(stage: "relay"), output: lines.output) }
        let outage = Outage(logger: logger)
        let error = RunnelError(.unavailable, "NATS at nats://127.0.0.1:1: cannot connect")
        let start = ContinuousClock.now
        for second in stride(from: 0, through: 70, by: 5) { outage.report(error, now: start + .seconds(second)) }
        outage.recovered("publishing again")
        outage.report(error, now: start + .seconds(80))
        #expect(
            lines.all == [
                "runnel relay: warning: UNAVAILABLE: NATS at nats://127.0.0.1:1: cannot connect; retrying with backoff",
                "runnel relay: warning: UNAVAILABLE: NATS at nats://127.0.0.1:1: cannot connect, for 10s now; still retrying: is nats-server running there, with JetStream (-js)?",
                "runnel relay: warning: UNAVAILABLE: NATS at nats://127.0.0.1:1: cannot connect, for 1m now; still retrying: is nats-server running there, with JetStream (-js)?",
                "runnel relay: NATS is back; publishing again",
                "runnel relay: warning: UNAVAILABLE: NATS at nats://127.0.0.1:1: cannot connect; retrying with backoff",
            ])
    }
}
