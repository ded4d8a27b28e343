import Foundation
import RunnelProtocol
import RunnelTesting
import Testing

/// The test PostgreSQL server (`RUNNEL_TEST_POSTGRES`, set by Scripts/test.sh) and one new
/// database per test on it, dropped at the end. Without the variable the tests fail, never skip.
final class PostgresDatabase {
    let server: String
    let name: String
    let url: String

    init() throws {
        guard let server = ProcessInfo.processInfo.environment["RUNNEL_TEST_POSTGRES"], !server.isEmpty else {
            throw RunnelError(
                .failedPrecondition,
                "RUNNEL_TEST_POSTGRES is not set: run Scripts/test.sh, or start one with Scripts/lib/postgres.sh and set RUNNEL_TEST_POSTGRES to the URL it prints")
        }
        guard var components = URLComponents(string: server) else {
            throw RunnelError(.invalidArgument, "RUNNEL_TEST_POSTGRES=\(server) is not a URL")
        }
        self.server = server
        name = "runnel_cli_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        components.path = "/" + name
        url = components.string ?? server
        try Self.psql(server, "CREATE DATABASE \(name)")
    }

    deinit {
        _ = try? Self.psql(server, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    /// The server's port, for a test that puts something in front of it.
    var port: Int { URLComponents(string: server)?.port ?? 5432 }

    /// `psql -At -c SQL` on this database.
    func psql(_ sql: String) throws -> String {
        try Self.psql(url, sql)
    }

    static func psql(_ url: String, _ sql: String) throws -> String {
        let result = try RunnelProcess.execBlocking("/usr/bin/env", ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql])
        guard result.status == 0 else { throw RunnelError(.internal, "psql failed on \(sql): \(result.stderr)") }
        return result.stdoutText
    }
}

private func storeInput() -> Data {
    let lines = [
        #"{"id":"a1","type":"article.parsed","body":{"url":"https://vov.vn/nato.html","canonical_url":"https://vov.vn/nato","title":"Nga đình chỉ hoạt động phái bộ ngoại giao","published_at":"2021-10-19","text":"Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva."}}"#,
        #"{"id":"a2","type":"article.parsed","body":{"url":"https://vov.vn/dn.html","title":"Đà Nẵng đón khách","text":"Thành phố Đà Nẵng đón khách quốc tế."}}"#,
        #"{"id":"e1","type":"error","body":{"code":5,"status":"NOT_FOUND","message":"HTTP 404","stage":"fetch","attempt":1,"url":"https://vov.vn/gone"}}"#,
        #"{"id":"a1","type":"article.parsed","body":{"url":"https://vov.vn/nato.html","canonical_url":"https://vov.vn/nato","title":"Nga đình chỉ hoạt động phái bộ ngoại giao","published_at":"2021-10-19","text":"Quyết định đình chỉ hoạt động của phái bộ ngoại giao Nga tại NATO và phái bộ quân sự NATO tại Matxcơva."}}"#,
    ]
    return Data(lines.map { $0 + "\n" }.joined().utf8)
}

private func actions(_ result: RunnelProcess.Result) -> [String] {
    result.stdoutLines.compactMap { line in
        guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let body = object["body"] as? [String: Any]
        else { return nil }
        return body["action"] as? String
    }
}

@Suite("runnel store, search, export --db postgres://")
struct PostgresCommandTests {
    @Test("store, then search and export read back what was stored, as with SQLite", .timeLimit(.minutes(1)))
    func storeSearchExport() async throws {
        let database = try PostgresDatabase()
        let stored = try await RunnelProcess.run(["store", "--db", database.url], stdin: storeInput())
        #expect(stored.status == 0, "\(stored.stderr)")
        #expect(actions(stored) == ["inserted", "inserted", "unchanged"])
        #expect(try database.psql("SELECT (SELECT count(*) FROM articles) || ' ' || (SELECT count(*) FROM failures)") == "2 1\n")

        let found = try await RunnelProcess.run(["search", "--db", database.url, "phai", "bo", "ngoai", "giao"])
        #expect(found.status == 0, "\(found.stderr)")
        #expect(found.stdoutLines.first == "1. Nga đình chỉ hoạt động phái bộ ngoại giao")
        #expect(found.stdoutText.contains("https://vov.vn/nato  2021-10-19"))
        #expect(found.stdoutText.contains("«phái» «bộ» «ngoại» «giao»"))
        let marked = try await RunnelProcess.run(["search", "--db", database.url, "Đà", "Nẵng"])
        #expect(marked.stdoutLines.first == "1. Đà Nẵng đón khách", "\(marked.stderr)")

        let json = try await RunnelProcess.run(["search", "--db", database.url, "Matxcova", "--json"])
        #expect(json.status == 0)
        #expect(json.stdoutLines.count == 1)
        let hit = try #require(try JSONSerialization.jsonObject(with: Data(json.stdoutLines[0].utf8)) as? [String: Any])
        #expect(hit["url"] as? String == "https://vov.vn/nato")
        #expect((hit["snippet"] as? String)?.contains("«Matxcơva»") == true)

        let none = try await RunnelProcess.run(["search", "--db", database.url, "Lavrov"])
        #expect(none.status == 1)
        #expect(none.stdout.isEmpty)

        let exported = try await RunnelProcess.run(["export", "--db", database.url])
        #expect(exported.status == 0, "\(exported.stderr)")
        #expect(exported.stdoutLines.count == 2)
        #expect(exported.stdoutText.contains(#""type":"article.parsed""#))
        #expect(exported.stdoutText.contains(#""stored":{"#))

        // An export stored again elsewhere gives the same articles, unchanged the second time.
        let copy = try PostgresDatabase()
        let first = try await RunnelProcess.run(["store", "--db", copy.url], stdin: exported.stdout)
        let again = try await RunnelProcess.run(["store", "--db", copy.url], stdin: exported.stdout)
        #expect(actions(first) == ["inserted", "inserted"], "\(first.stderr)")
        #expect(actions(again) == ["unchanged", "unchanged"], "\(again.stderr)")
    }

    /// What the SQLite store's SearchTests `hostileSyntax` tries, through the command against
    /// PostgreSQL: each query is searched as words (exit 0 or 1, as grep) or refused as having no
    /// word (64), never an SQL error; a long one is not echoed whole.
    @Test("hostile and long queries against PostgreSQL: searched as words or refused, never an SQL error", .timeLimit(.minutes(2)))
    func hostileQueries() async throws {
        let database = try PostgresDatabase()
        let stored = try await RunnelProcess.run(["store", "--db", database.url], stdin: storeInput())
        #expect(stored.status == 0, "\(stored.stderr)")
        let queries = [
            "\"", "*", "^", "(((", "-", "NEAR(nato nga", "title:nato", "nato & !nga", "nato <-> nga", "nato:*",
            "'; DROP TABLE articles; --", "\\", "😀 nato", "nato | nga", "!!nato", "nato:A", "$1", "nato' || 'x",
        ]
        for query in queries {
            let result = try await RunnelProcess.run(["search", "--db", database.url, query])
            #expect([0, 1, 64].contains(result.status), "\(query): exit \(result.status): \(result.stderr)")
            #expect(!result.stderr.contains("syntax error") && !result.stderr.contains("INTERNAL"), "\(query): \(result.stderr)")
        }
        let nato = try await RunnelProcess.run(["search", "--db", database.url, "nato:*"])
        #expect(nato.status == 0, "a word followed by tsquery syntax is the word: \(nato.stderr)")
        let words = Array(repeating: "nato", count: 4_000) + ["khongcotu"]
        let long = try await RunnelProcess.run(["search", "--db", database.url] + words)
        #expect(long.status == 1, "\(long.stderr)")
        #expect(long.stderr.count < 300, "the no-match message does not echo 4,000 words: \(long.stderr.count) bytes")
        #expect(try database.psql("SELECT count(*) FROM articles") == "2\n", "the store is intact")
    }

    @Test("an unreachable server is UNAVAILABLE, named without its password", .timeLimit(.minutes(1)))
    func unreachable() async throws {
        let result = try await RunnelProcess.run(["search", "--db", "postgres://runnel:s3cret@127.0.0.1:1/news", "nato"])
        #expect(result.status == 69)
        #expect(result.stderr.contains("UNAVAILABLE"), "\(result.stderr)")
        #expect(result.stderr.contains("postgres://runnel@127.0.0.1:1/news"))
        #expect(!result.stderr.contains("s3cret"))
    }

    @Test("a server that comes up late: the store keeps retrying and then stores the input", .timeLimit(.minutes(1)))
    func serverComesUpLate() async throws {
        let database = try PostgresDatabase()
        let dir = try RunnelProcess.temporaryDirectory()
        let forwarder = dir.appendingPathComponent("forward.py")
        try Data(Self.forwarder.utf8).write(to: forwarder)
        // A port nobody listens on yet (the OS picks it: bound to port 0, then let go); 1.5 s
        // later a forwarder to the real server opens it. The late start is the behaviour under
        // test (the store retries until the server is there), so that sleep stays.
        let port = try await Int(RunnelProcess.exec("/usr/bin/env", ["python3", "-c", Self.freePort]).stdoutText.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        let url = "postgres://postgres@127.0.0.1:\(port)/\(database.name)"
        let script = """
            (sleep 1.5; exec python3 \(forwarder.path) \(port) \(database.port)) </dev/null >/dev/null 2>&1 &
            forwarder=$!
            "$RUNNEL" store --db '\(url)' --max-attempts 12
            status=$?
            kill $forwarder 2>/dev/null
            exit $status
            """

        let result = try await RunnelProcess.shell(script, stdin: storeInput())

        #expect(result.status == 0, "\(result.stderr)")
        #expect(actions(result) == ["inserted", "inserted", "unchanged"])
        #expect(try database.psql("SELECT count(*) FROM articles") == "2\n")
    }

    static let freePort = """
        import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])
        """

    /// A TCP forwarder: listens on argv[1] and relays each connection to 127.0.0.1:argv[2].
    static let forwarder = """
        import asyncio, sys

        async def relay(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            finally:
                writer.close()

        async def handle(reader, writer):
            target_reader, target_writer = await asyncio.open_connection("127.0.0.1", int(sys.argv[2]))
            await asyncio.gather(relay(reader, target_writer), relay(target_reader, writer), return_exceptions=True)

        async def main():
            server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
            async with server:
                await server.serve_forever()

        asyncio.run(main())
        """

    @Test("the stage conformance suite over Unix sockets, storing into PostgreSQL", .timeLimit(.minutes(2)))
    func conformance() async throws {
        let database = try PostgresDatabase()
        let dir = try RunnelProcess.temporaryDirectory()
        let inputs = try (0..<20).map { i in
            Envelope(
                type: MessageType.articleParsed,
                body: try RawJSON(
                    encoding: ArticleParsed(
                        url: "https://vov.vn/tin/\(i).html", title: "Phái bộ ngoại giao \(i)",
                        paragraphs: ["Phái bộ ngoại giao Nga tại Matxcơva, tin số \(i)."])))
        }
        let stage = StageUnderTest(name: "store", command: [RunnelProcess.runnel, "store", "--db", database.url], inputs: inputs)

        let problems = try await StageConformance.run(stage, in: dir)

        #expect(problems.isEmpty, "\(problems)")
        #expect(try database.psql("SELECT count(*) FROM articles") == "20\n", "every check stored the same 20 articles, once")
        #expect(try database.psql("SELECT status || ' ' || raw FROM failures") == "INVALID_ARGUMENT this is not JSON\n")
    }

    @Test(
        "three store processes (replicas on three hosts) write the same 300 articles at once: 300 rows, one insert each",
        .timeLimit(.minutes(2)))
    func replicasShareOneDatabase() async throws {
        let database = try PostgresDatabase()
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = (0..<300).map { i in
            #"{"id":"p\#(i)","type":"article.parsed","body":{"url":"https://vov.vn/tin-\#(i).html","title":"Tin \#(i)","text":"Phái bộ ngoại giao số \#(i) tại Matxcơva ngừng hoạt động."}}"#
        }
        // Each replica gets every article, in its own order, so they race on the same rows.
        for replica in 0..<3 {
            let order = replica == 1 ? lines.reversed() : replica == 2 ? lines.shuffled() : lines
            try (order.joined(separator: "\n") + "\n").write(
                to: dir.appendingPathComponent("in\(replica).jsonl"), atomically: true, encoding: .utf8)
        }
        let run = try await RunnelProcess.shell(
            """
            pids=""
            for r in 0 1 2; do "$RUNNEL" store --db '\(database.url)' --batch 25 < in$r.jsonl > out$r.jsonl 2> err$r.txt & pids="$pids $!"; done
            status=0; for pid in $pids; do wait $pid || status=1; done; exit $status
            """, in: dir)
        let errors = (0..<3).map { (try? String(contentsOf: dir.appendingPathComponent("err\($0).txt"), encoding: .utf8)) ?? "" }
        #expect(run.status == 0, "\(errors)")

        var inserted: [String: Int] = [:]
        var answers = 0
        for replica in 0..<3 {
            let output = try String(contentsOf: dir.appendingPathComponent("out\(replica).jsonl"), encoding: .utf8)
            for line in output.split(separator: "\n") {
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let body = object["body"] as? [String: Any], let action = body["action"] as? String
                else { continue }
                answers += 1
                #expect(action == "inserted" || action == "unchanged", "\(line)")
                if action == "inserted", let url = body["url"] as? String { inserted[url, default: 0] += 1 }
            }
        }
        #expect(answers == 900, "every replica answered every article: \(errors)")
        #expect(inserted.count == 300 && inserted.values.allSatisfy { $0 == 1 }, "one insert per article across replicas")
        #expect(try database.psql("SELECT count(*) || ' ' || count(DISTINCT canonical_url) FROM articles") == "300 300\n")
    }
}
