import Foundation
import Testing

/// Lines of realistic messages: URL requests and pages with Vietnamese text.
func messages(_ count: Int) -> [String] {
    (0..<count).map { i in
        i % 2 == 0
            ? #"{"id":"u\#(i)","type":"url.requested","body":{"url":"https://vov.vn/the-gioi/bai-\#(i).html"}}"#
            : #"{"id":"p\#(i)","type":"page.fetched","body":{"url":"https://vov.vn/\#(i)","status":200,"content_type":"text/html","html":"<h1>Phái bộ ngoại giao \#(i)</h1>"}}"#
    }
}

func data(_ lines: [String]) -> Data { Data(lines.map { $0 + "\n" }.joined().utf8) }

@Suite("runnel cat")
struct CatCommandTests {
    @Test("plain lines come out unchanged; --type filters")
    func plain() async throws {
        let lines = messages(20)
        let all = try await RunnelProcess.run(["cat"], stdin: data(lines))
        #expect(all.status == 0)
        #expect(all.stdoutLines == lines)
        let pages = try await RunnelProcess.run(["cat", "--type", "page.fetched"], stdin: data(lines))
        #expect(pages.stdoutLines == lines.filter { $0.contains("page.fetched") })
    }

    @Test("--originals: each error record becomes the message it holds; one that holds none is counted and left out")
    func originals() async throws {
        let page = messages(2)[1]
        let url = messages(1)[0]
        let heldPage = #"{"id":"e1","type":"error","body":{"code":14,"status":"UNAVAILABLE","message":"went away 3 times","stage":"parse","attempt":1,"original":\#(page)}}"#
        let heldURL = #"{"id":"e2","type":"error","body":{"code":14,"status":"UNAVAILABLE","message":"refused","stage":"fetch","attempt":2,"original":\#(url)}}"#
        let unreadable = #"{"id":"e3","type":"error","body":{"code":3,"status":"INVALID_ARGUMENT","message":"not JSON","stage":"parse","attempt":1,"raw":"{nope"}}"#
        let other = messages(4)[3]
        let dir = try RunnelProcess.temporaryDirectory()
        let log = dir.appendingPathComponent("dead.jsonl.zst").path
        let zipped = try await RunnelProcess.run(["cat", "--zstd"], stdin: data([heldPage, unreadable, heldURL, other]))
        try zipped.stdout.write(to: URL(fileURLWithPath: log))
        // The same messages (the writer's own order of keys, `attempt` 1 written out).
        func same(_ lines: [String], _ expected: [String]) -> Bool {
            func object(_ line: String) -> NSDictionary? {
                guard let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else { return nil }
                return parsed.filter { $0.key != "attempt" || ($0.value as? Int) != 1 } as NSDictionary
            }
            return lines.count == expected.count && zip(lines, expected).allSatisfy { object($0) != nil && object($0) == object($1) }
        }
        let all = try await RunnelProcess.run(["cat", "--originals", log])
        #expect(all.status == 0, "\(all.stderr)")
        #expect(same(all.stdoutLines, [page, url, other]), "\(all.stdoutLines)")
        #expect(all.stderr.contains("1 error record holds no message to send again"), "\(all.stderr)")
        let pages = try await RunnelProcess.run(["cat", "--originals", "--type", "page.fetched", log])
        #expect(same(pages.stdoutLines, [page, other]), "\(pages.stdoutLines)")
        let plain = try await RunnelProcess.run(["cat", log])
        #expect(plain.stdoutLines == [heldPage, unreadable, heldURL, other], "without the flag the records stay records")
    }

    @Test("a stream's hello is checked as a link's: no common version or a type the reader does not take stops it")
    func streamHello() async throws {
        let url = #"{"id":"u1","type":"url.requested","body":{"url":"https://vov.vn/a.html"}}"#
        let future = #"{"ctl":"hello","versions":[2],"stage":"py","accepts":[],"emits":["url.requested"]}"#
        let refused = try await RunnelProcess.run(["cat"], stdin: data([future, url]))
        #expect(refused.status == 65, "\(refused.stderr)")
        #expect(refused.stderr.contains("line 1: UNIMPLEMENTED: no common protocol version"), "\(refused.stderr)")
        #expect(refused.stdoutLines.isEmpty, "nothing after the refused hello is read")

        let fetched = #"{"ctl":"hello","versions":[1],"stage":"fetch","accepts":["url.requested"],"emits":["page.fetched"]}"#
        let wrongType = try await RunnelProcess.run(["enrich"], stdin: data([fetched, messages(2)[1]]))
        #expect(wrongType.status != 0, "\(wrongType.stderr)")
        #expect(wrongType.stderr.contains("FAILED_PRECONDITION: type mismatch: fetch emits page.fetched"), "\(wrongType.stderr)")
        #expect(wrongType.stdoutLines.isEmpty)

        let current = #"{"ctl":"hello","versions":[1],"stage":"send","accepts":[],"emits":["url.requested"]}"#
        let taken = try await RunnelProcess.run(["cat"], stdin: data([current, url]))
        #expect(taken.status == 0, "\(taken.stderr)")
        #expect(taken.stdoutLines == [url], "a hello that fits is read past, and not written")
    }

    @Test("runnel cat --zstd writes a stream that zstd -dc and Python decode")
    func encodeForOthers() async throws {
        let lines = messages(200)
        let encoded = try await RunnelProcess.run(["cat", "--zstd"], stdin: data(lines))
        #expect(encoded.status == 0)
        #expect(encoded.stdout.prefix(4) == Data([0x28, 0xB5, 0x2F, 0xFD]))
        #expect(encoded.stdout.count < data(lines).count / 2)
        let zstd = try await RunnelProcess.exec("/usr/bin/env", ["zstd", "-dc"], stdin: encoded.stdout)
        #expect(zstd.status == 0)
        #expect(zstd.stdoutLines == lines)
        let python = try await RunnelProcess.exec(
            "/usr/bin/env",
            [
                "python3", "-c",
                "import sys, zstandard; sys.stdout.buffer.write(zstandard.ZstdDecompressor().stream_reader(sys.stdin.buffer, read_across_frames=True).read())",
            ], stdin: encoded.stdout)
        #expect(python.status == 0, "\(python.stderr)")
        #expect(python.stdoutLines == lines)
    }

    @Test("streams written by the zstd CLI (several frames) decode")
    func decodeZstdCLI() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let lines = messages(30)
        try data(Array(lines[0..<10])).write(to: dir.appendingPathComponent("a.jsonl"))
        try data(Array(lines[10..<30])).write(to: dir.appendingPathComponent("b.jsonl"))
        let result = try await RunnelProcess.shell(
            "zstd -q -c a.jsonl > s.zst && zstd -q -19 -c b.jsonl >> s.zst && \"$RUNNEL\" cat s.zst", in: dir)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdoutLines == lines)
    }

    @Test("streams written by Python zstandard with flushes mid-frame decode")
    func decodePythonFlushes() async throws {
        let lines = messages(40)
        let script = """
            import sys, zstandard
            lines = sys.stdin.buffer.read().splitlines(keepends=True)
            c = zstandard.ZstdCompressor(level=3).compressobj()
            out = []
            for i, line in enumerate(lines):
                out.append(c.compress(line))
                if i % 7 == 6:
                    out.append(c.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK))
            out.append(c.flush())
            c2 = zstandard.ZstdCompressor(level=1)
            out.append(c2.compress(lines[0]))  # a second frame
            sys.stdout.buffer.write(b"".join(out))
            """
        let python = try await RunnelProcess.exec("/usr/bin/env", ["python3", "-c", script], stdin: data(lines))
        #expect(python.status == 0, "\(python.stderr)")
        let decoded = try await RunnelProcess.run(["cat"], stdin: python.stdout)
        #expect(decoded.status == 0, "\(decoded.stderr)")
        #expect(decoded.stdoutLines == lines + [lines[0]])
    }

    @Test(
        "each bad input is one clear line with status and position; the lines before it arrive",
        arguments: [
            ("not an object", #"[1,2]"#, "line 3: INVALID_ARGUMENT"),
            ("missing type", #"{"id":"x","body":{}}"#, "line 3: INVALID_ARGUMENT: missing required field \"type\""),
            ("missing id", #"{"type":"t","body":{}}"#, "line 3: INVALID_ARGUMENT: missing required field \"id\""),
            ("unknown version", #"{"id":"x","type":"t","v":9,"body":{}}"#, "line 3: UNIMPLEMENTED: protocol version 9"),
            ("broken JSON", #"{"id":"x","type":"t","body":{"#, "line 3: INVALID_ARGUMENT: not valid JSON"),
        ])
    func badPlainLine(name: String, bad: String, expected: String) async throws {
        let good = messages(2)
        let result = try await RunnelProcess.run(["cat"], stdin: data(good + [bad] + messages(1)))
        #expect(result.status == 65, "\(name)")
        #expect(result.stdoutLines == good + messages(1), "\(name)")
        #expect(result.stderrLines.count == 1, "\(name): \(result.stderr)")
        #expect(result.stderr.contains("runnel: stdin: \(expected)"), "\(name): \(result.stderr)")
    }

    @Test("invalid UTF-8 is refused with its line number")
    func invalidUTF8() async throws {
        var input = data(messages(2))
        input.append(Data(#"{"id":"x","type":"t","body":""#.utf8) + Data([0xC3, 0x28]) + Data("\"}\n".utf8))
        let result = try await RunnelProcess.run(["cat"], stdin: input)
        #expect(result.status == 65)
        #expect(result.stdoutLines.count == 2)
        #expect(result.stderr.contains("line 3: INVALID_ARGUMENT: not valid JSON: invalid UTF-8"), "\(result.stderr)")
    }

    @Test("a line over --max-line is RESOURCE_EXHAUSTED and skipped")
    func longLine() async throws {
        let long = #"{"id":"x","type":"t","body":""# + String(repeating: "a", count: 5000) + #""}"#
        let result = try await RunnelProcess.run(["cat", "--max-line", "1000"], stdin: data(messages(2) + [long] + messages(2)))
        #expect(result.status == 65)
        #expect(result.stdoutLines == messages(2) + messages(2))
        #expect(result.stderr.contains("line 3: RESOURCE_EXHAUSTED: line longer than the limit of 1000 bytes"))
    }

    @Test("a truncated zstd stream keeps the lines of whole frames and reports DATA_LOSS with the offset")
    func truncated() async throws {
        let lines = messages(50)
        let first = try await RunnelProcess.run(["cat", "--zstd"], stdin: data(Array(lines[0..<25]))).stdout
        let second = try await RunnelProcess.run(["cat", "--zstd"], stdin: data(Array(lines[25..<50]))).stdout
        let result = try await RunnelProcess.run(["cat"], stdin: first + second.prefix(second.count - 5))
        #expect(result.status == 65)
        #expect(Array(result.stdoutLines.prefix(25)) == Array(lines[0..<25]))
        #expect(result.stderr.contains("DATA_LOSS"), "\(result.stderr)")
        #expect(result.stderr.contains("byte "), "\(result.stderr)")
    }

    @Test("garbage and a huge window are refused with their status")
    func garbageAndWindow() async throws {
        let garbage = try await RunnelProcess.run(["cat"], stdin: Data([0x28, 0xB5, 0x2F, 0xFD, 0xFF, 0xFF, 0x00, 0x13, 0x37] + Array(repeating: 0xAB, count: 64)))
        #expect(garbage.status == 65)
        #expect(garbage.stderr.contains("DATA_LOSS"), "\(garbage.stderr)")
        let dir = try RunnelProcess.temporaryDirectory()
        try data(messages(10)).write(to: dir.appendingPathComponent("m.jsonl"))
        // A 128 MiB window from the zstd CLI, refused by the default 16 MiB limit, accepted above it.
        let bomb = try await RunnelProcess.shell("zstd -q --long=27 -c < m.jsonl | \"$RUNNEL\" cat", in: dir)
        #expect(bomb.status == 65)
        #expect(bomb.stderr.contains("RESOURCE_EXHAUSTED"), "\(bomb.stderr)")
        let allowed = try await RunnelProcess.shell("zstd -q --long=27 -c < m.jsonl | \"$RUNNEL\" cat --max-window-log 27", in: dir)
        #expect(allowed.status == 0, "\(allowed.stderr)")
        #expect(allowed.stdoutLines == messages(10))
    }

    @Test("a missing file is NOT_FOUND with its path, and the other files are still read")
    func missingFile() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        try data(messages(3)).write(to: dir.appendingPathComponent("ok.jsonl"))
        let result = try await RunnelProcess.run(["cat", "missing.jsonl", "ok.jsonl"], in: dir)
        #expect(result.status == 74)
        #expect(result.stdoutLines == messages(3))
        #expect(result.stderr.contains("runnel: missing.jsonl: NOT_FOUND"), "\(result.stderr)")
    }
}

@Suite("runnel validate, relay, --version")
struct ValidateCommandTests {
    @Test("validate counts valid lines by type and names the field of a bad body")
    func validate() async throws {
        let bad = #"{"id":"x","type":"page.fetched","body":{"url":"u","status":"200","html":""}}"#
        let result = try await RunnelProcess.run(["validate"], stdin: data(messages(4) + [bad]))
        #expect(result.status == 65)
        #expect(result.stdoutText.hasPrefix("4 valid, 1 invalid (page.fetched 2, url.requested 2)"))
        #expect(result.stderr.contains("line 5: INVALID_ARGUMENT: body.status: expected an integer"), "\(result.stderr)")
        let good = try await RunnelProcess.run(["validate"], stdin: data(messages(4)))
        #expect(good.status == 0)
    }

    @Test("--version names the protocol version")
    func version() async throws {
        let result = try await RunnelProcess.run(["--version"])
        #expect(result.status == 0)
        #expect(result.stdoutText.contains("protocol v1"))
    }

    @Test("relay passes messages on unchanged (id included) and turns bad lines into error records")
    func relay() async throws {
        let input = data([#"{"id":"a","type":"x.y","trace":"T","deadline_ms":60000,"meta":{"k":"v"},"body":{"n":1}}"#, "oops"])
        let result = try await RunnelProcess.run(["relay"], stdin: input)
        #expect(result.status == 0)
        let lines = result.stdoutLines
        #expect(lines.count == 2)
        let objects = try lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        let output = try #require(objects.first { $0["type"] as? String == "x.y" })
        #expect(output["id"] as? String == "a")
        #expect(output["parent"] == nil)
        #expect(output["trace"] as? String == "T")
        #expect((output["meta"] as? [String: String]) == ["k": "v"])
        #expect((output["deadline_ms"] as? Int).map { $0 > 50_000 && $0 <= 60_000 } == true)
        let error = try #require(objects.first { $0["type"] as? String == "error" })
        let body = try #require(error["body"] as? [String: Any])
        #expect(body["status"] as? String == "INVALID_ARGUMENT")
        #expect(body["raw"] as? String == "oops")
        #expect(result.stderr.contains("runnel relay: warning: INVALID_ARGUMENT: line 2"), "\(result.stderr)")
    }

    @Test("relay --dead-letter keeps failures out of the stream, in a zstd log")
    func deadLetterLog() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let result = try await RunnelProcess.run(
            ["relay", "--dead-letter", "dead.jsonl.zst"], stdin: data(messages(3) + ["oops", "[]"]), in: dir)
        #expect(result.status == 0)
        #expect(result.stdoutLines.count == 3)
        let dead = try await RunnelProcess.run(["cat", "dead.jsonl.zst"], in: dir)
        #expect(dead.status == 0, "\(dead.stderr)")
        #expect(dead.stdoutLines.count == 2)
        #expect(dead.stdoutLines.allSatisfy { $0.contains("\"type\":\"error\"") })
    }

    @Test("wrap makes a line filter a stage: one answer per line, bodies or messages, failures as error records")
    func wrap() async throws {
        let input = data([
            #"{"id":"a","type":"article.parsed","body":{"url":"u","title":"hello","text":"t"}}"#,
            #"{"id":"b","type":"article.parsed","body":{"url":"u2","title":"world","text":"t"}}"#,
        ])
        let upper = try await RunnelProcess.run(["wrap", "--", "jq", "-c", "--unbuffered", ".body.title |= ascii_upcase"], stdin: input)
        #expect(upper.status == 0, "\(upper.stderr)")
        #expect(upper.stdoutLines.count == 2)
        #expect(upper.stdoutLines[0].contains(#""title":"HELLO""#) && upper.stdoutLines[0].contains(#""parent":"a""#))
        #expect(upper.stdoutLines[1].contains(#""title":"WORLD""#))
        let broken = try await RunnelProcess.run(["wrap", "--", "sh", "-c", "read l; echo notjson"], stdin: data([#"{"id":"a","type":"x","body":1}"#]))
        #expect(broken.stdoutLines.count == 1)
        #expect(broken.stdoutLines[0].contains(#""status":"INVALID_ARGUMENT""#), "\(broken.stdoutText)")
        #expect(broken.stderr.contains("sh answered with a line that is not JSON"))

        // A child whose answer is a 20 MB line: refused at --max-line, in time linear in its size,
        // and the next message is answered by a fresh child.
        let script = "import sys\nfor line in sys.stdin:\n    print('\"' + 'x' * 20_000_000 + '\"' if '\"body\":1' in line else line.strip(), flush=True)"
        let started = ContinuousClock.now
        let huge = try await RunnelProcess.run(
            ["wrap", "--max-line", "1MiB", "--max-attempts", "1", "--", "python3", "-c", script],
            stdin: data([#"{"id":"a","type":"x","body":1}"#, #"{"id":"b","type":"x","body":2}"#]))
        #expect(huge.status == 0, "\(huge.stderr)")
        #expect(huge.stdoutLines.count == 2)
        #expect(huge.stdoutLines.first?.contains(#""status":"RESOURCE_EXHAUSTED""#) == true, "\(huge.stdoutText.prefix(300))")
        #expect(huge.stderr.contains("python3 answered with a line longer than 1MiB"), "\(huge.stderr)")
        #expect(huge.stdoutLines.last?.contains(#""parent":"b""#) == true, "\(huge.stdoutText.suffix(300))")
        #expect(started.duration(to: .now) < .seconds(60))
    }
}
