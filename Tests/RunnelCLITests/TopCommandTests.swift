import Foundation
import Testing

/// `runnel top` against a pipeline run by the real supervisor.
@Suite("runnel top", .serialized)
struct TopCommandTests {
    @Test("top --once --json prints one refresh with the status and the rates between two answers", .timeLimit(.minutes(2)))
    func onceJSON() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("top")
        // A URL every 10 ms, for as long as the test runs.
        let pipeline = try TapCommandTests.start(
            name, feeder: "while read u && [ ! -e stop ]; do echo $u; sleep 0.01; done < urls.txt", pages: 2000, in: dir)
        #expect(
            await eventually(timeout: .seconds(60)) { (await TapCommandTests.outputs(name) ?? 0) > 0 },
            "\((try? String(contentsOf: dir.appendingPathComponent("run.err"), encoding: .utf8)) ?? "")")

        // Stages write their counts once a second: two answers 2 s apart see them move.
        let top = try await RunnelProcess.run(["top", "--once", "--json", "--interval", "2s", "--name", name])
        #expect(top.status == 0, "\(top.stderr)")
        #expect(top.stdoutLines.count == 1, "one object per refresh: \(top.stdoutText)")
        let refresh = try #require(try JSONSerialization.jsonObject(with: Data((top.stdoutLines.first ?? "").utf8)) as? [String: Any])
        let status = try #require(refresh["status"] as? [String: Any])
        let rates = try #require(refresh["rates"] as? [String: Any])
        #expect(status["pipeline"] as? String == name)
        #expect(refresh["time"] is String)
        let interval = try #require(rates["interval_s"] as? Double)
        #expect(interval >= 2 && interval < 20, "\(interval)")
        let stages = try #require(rates["stages"] as? [[String: Any]])
        #expect(stages.map { $0["name"] as? String } == ["source", "fetch", "relay"])
        let fetch = try #require(stages.first { $0["name"] as? String == "fetch" })
        #expect((fetch["in_per_s"] as? Double ?? 0) > 0, "pages flow through fetch: \(fetch)")
        #expect(fetch["restarts"] as? Int == 0)

        let table = try await RunnelProcess.run(["top", "--once", "--interval", "200ms", "--name", name])
        #expect(table.status == 0, "\(table.stderr)")
        for column in ["STAGE", "IN/S", "OUT/S", "ERR/S", "fetch", "relay"] { #expect(table.stdoutText.contains(column), "\(table.stdoutText)") }
        #expect(!table.stdoutText.contains("\u{1B}[2J"), "--once does not clear the screen")

        let missing = try await RunnelProcess.run(["top", "--once", "--name", name + "-none"])
        #expect(missing.status == 69, "no pipeline of that name: \(missing.stderr)")
        await TapCommandTests.stop(name, pipeline, in: dir)
    }
}
