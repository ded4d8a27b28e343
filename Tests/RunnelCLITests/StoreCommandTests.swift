import Foundation
import Testing

/// Messages for the store: the NATO article (parsed), one about Đà Nẵng, an error record, and
/// the first message again (a redelivery).
private func storeInput() -> Data {
    let lines = [
        #"{"id":"a1","type":"article.parsed","body":{"url":"https://vov.vn/nato.html","canonical_url":"https://vov.vn/nato","title":"Nga đình chỉ hoạt động phái bộ ngoại giao","published_at":"2021-10-19","text":"Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva."}}"#,
        #"{"id":"a2","type":"article.parsed","body":{"url":"https://vov.vn/dn.html","title":"Đà Nẵng đón khách","text":"Thành phố Đà Nẵng đón khách quốc tế."}}"#,
        #"{"id":"e1","type":"error","body":{"code":5,"status":"NOT_FOUND","message":"HTTP 404","stage":"fetch","attempt":1,"url":"https://vov.vn/gone"}}"#,
        #"{"id":"a1","type":"article.parsed","body":{"url":"https://vov.vn/nato.html","canonical_url":"https://vov.vn/nato","title":"Nga đình chỉ hoạt động phái bộ ngoại giao","published_at":"2021-10-19","text":"Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva."}}"#,
    ]
    return Data(lines.map { $0 + "\n" }.joined().utf8)
}

@Suite("runnel store, search, export")
struct StoreCommandTests {
    @Test("store writes one article.stored per article; a redelivery says unchanged")
    func store() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let result = try await RunnelProcess.run(["store", "--db", "news.sqlite"], stdin: storeInput(), in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        let actions = result.stdoutLines.compactMap { line -> String? in
            guard let data = line.data(using: .utf8),
                let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let body = object["body"] as? [String: Any]
            else { return nil }
            #expect(object["type"] as? String == "article.stored")
            return body["action"] as? String
        }
        #expect(actions == ["inserted", "inserted", "unchanged"])
        let count = try await RunnelProcess.exec(
            "/usr/bin/env", ["sqlite3", "news.sqlite", "SELECT (SELECT count(*) FROM articles) || ' ' || (SELECT count(*) FROM failures)"],
            in: dir)
        #expect(count.stdoutText == "2 1\n")
    }

    @Test("search finds Vietnamese without marks and marks the words between « » in a pipe")
    func search() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        _ = try await RunnelProcess.run(["store", "--db", "news.sqlite"], stdin: storeInput(), in: dir)

        let found = try await RunnelProcess.run(["search", "--db", "news.sqlite", "phai", "bo", "ngoai", "giao"], in: dir)
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdoutLines.first == "1. Nga đình chỉ hoạt động phái bộ ngoại giao")
        #expect(found.stdoutText.contains("https://vov.vn/nato  2021-10-19"))
        #expect(found.stdoutText.contains("«phái» «bộ» «ngoại» «giao»"))
        #expect(!found.stdoutText.contains("\u{1B}["), "no ANSI codes when stdout is not a terminal")

        let json = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Matxcova", "--json"], in: dir)
        #expect(json.status == 0)
        #expect(json.stdoutLines.count == 1)
        let hit = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutLines[0].utf8)) as? [String: Any])
        #expect(hit["url"] as? String == "https://vov.vn/nato")
        #expect(hit["rank"] as? Int == 1)
        #expect((hit["snippet"] as? String)?.contains("«Matxcơva»") == true)

        let none = try await RunnelProcess.run(["search", "--db", "news.sqlite", "Lavrov"], in: dir)
        #expect(none.status == 1)
        #expect(none.stdout.isEmpty)
    }

    @Test("search and export on a missing database: NOT_FOUND with the path, non-zero exit, no file made")
    func missingDatabase() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let search = try await RunnelProcess.run(["search", "--db", "absent.sqlite", "x"], in: dir)
        #expect(search.status == 74)
        #expect(search.stderr.contains("NOT_FOUND"))
        #expect(search.stderr.contains("absent.sqlite"))
        let export = try await RunnelProcess.run(["export", "--db", "absent.sqlite"], in: dir)
        #expect(export.status == 74)
        #expect(export.stderr.contains("NOT_FOUND"))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("absent.sqlite").path))
    }

    @Test("store on a corrupt file exits 65 with DATA_LOSS before reading, and leaves the file alone")
    func corruptDatabase() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) })
        try garbage.write(to: dir.appendingPathComponent("news.sqlite"))
        // No input: the command exits before reading, and writing to its closed stdin would
        // raise SIGPIPE in this test process.
        let result = try await RunnelProcess.run(["store", "--db", "news.sqlite"], in: dir)
        #expect(result.status == 65)
        #expect(result.stderr.contains("DATA_LOSS"))
        #expect(result.stderr.contains("news.sqlite"))
        #expect(result.stdout.isEmpty)
        #expect(try Data(contentsOf: dir.appendingPathComponent("news.sqlite")) == garbage)
    }

    @Test("export writes messages that store again as the same articles")
    func exportRoundTrip() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        _ = try await RunnelProcess.run(["store", "--db", "news.sqlite"], stdin: storeInput(), in: dir)

        let bodies = try await RunnelProcess.run(["export", "--db", "news.sqlite", "--bodies"], in: dir)
        #expect(bodies.status == 0, "\(bodies.stderr)")
        #expect(bodies.stdoutLines.count == 2)
        #expect(bodies.stdoutLines[0].hasPrefix("{\"canonical_url\":\"https://vov.vn/nato\""))

        let copy = try await RunnelProcess.shell(
            "\"$RUNNEL\" export --db news.sqlite | \"$RUNNEL\" validate --quiet && \"$RUNNEL\" export --db news.sqlite | \"$RUNNEL\" store --db copy.sqlite && \"$RUNNEL\" export --db news.sqlite | \"$RUNNEL\" store --db copy.sqlite",
            in: dir)
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stdoutText.components(separatedBy: "\"inserted\"").count - 1 == 2)
        #expect(copy.stdoutText.components(separatedBy: "\"unchanged\"").count - 1 == 2)
    }
}

@Suite("runnel store with a locked database")
struct StoreLockedCommandTests {
    @Test("a lock held past --busy-timeout: each input becomes an UNAVAILABLE error record after the retries, exit 0, no crash")
    func locked() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        // Make the store, then hold its write lock from another process until the store has
        // exited (the file `release` appears; 60 s at most), however slowly the store runs.
        let made = try await RunnelProcess.run(["store", "--db", "news.sqlite"], stdin: Data(), in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let script = """
            python3 -c "
            import os, sqlite3, time, sys
            c = sqlite3.connect('news.sqlite', isolation_level=None)
            c.execute('CREATE TABLE t (x)'); c.execute('DROP TABLE t')
            c.execute('BEGIN EXCLUSIVE'); print('locked', flush=True)
            deadline = time.monotonic() + 60
            while not os.path.exists('release') and time.monotonic() < deadline: time.sleep(0.02)
            c.execute('ROLLBACK')
            " > lock.out &
            tries=0; while ! grep -q locked lock.out 2>/dev/null; do tries=$((tries+1)); [ $tries -lt 400 ] || exit 99; sleep 0.05; done
            "$RUNNEL" store --db news.sqlite --busy-timeout 200ms --max-attempts 2
            echo "exit=$?" >&2
            touch release
            wait
            """
        let result = try await RunnelProcess.shell(script, stdin: storeInput(), in: dir)
        #expect(result.stderr.contains("exit=0"), "\(result.stderr)")
        #expect(result.stderr.contains("UNAVAILABLE"))
        #expect(result.stderr.contains("news.sqlite is locked"))
        let records = result.stdoutLines.filter { $0.contains(#""type":"error""#) }
        #expect(records.count == 4, "every input fails, the error record too: \(result.stdoutText)")
        #expect(records.allSatisfy { $0.contains(#""status":"UNAVAILABLE""#) && $0.contains(#""attempt":2"#) })
    }
}
