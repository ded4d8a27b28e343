import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Exit statuses follow sysexits(3) through one table (`Sources/runnel/ExitStatus.swift`): each
/// case here is an error of one kind, met by the real binary, and the status it must give.
@Suite("Exit statuses (sysexits)")
struct ExitStatusTests {
    static let article = RunnelProcess.packageRoot.appendingPathComponent(
        "Tests/RunnelCLITests/Fixtures/article.parsed.vi.nato-spokesperson.jsonl")

    @Test("runnel --help lists every exit status")
    func helpListsTable() async throws {
        let help = try await RunnelProcess.run(["--help"])
        #expect(help.status == 0)
        for line in ["0   done", "1   a check", "64  EX_USAGE", "65  EX_DATAERR", "69  EX_UNAVAILABLE", "70  EX_SOFTWARE",
                     "74  EX_IOERR", "75  EX_TEMPFAIL", "77  EX_NOPERM", "78  EX_CONFIG"] {
            #expect(help.stdoutText.contains(line), "no \"\(line)\" in:\n\(help.stdoutText)")
        }
    }

    @Test("a flag the argument parser refuses, or a wrong endpoint: 64 (EX_USAGE)")
    func usage() async throws {
        let level = try await RunnelProcess.run(["cat", "--level", "loud"])
        #expect(level.status == 64, "\(level.stderr)")
        let combined = try await RunnelProcess.run(["cat", "--raw", "--type", "page.fetched"])
        #expect(combined.status == 64, "\(combined.stderr)")
        let endpoint = try await RunnelProcess.run(["parse", "--to", "carrier-pigeon://x"])
        #expect(endpoint.status == 64, "\(endpoint.stderr)")
        #expect(endpoint.stderr.contains("INVALID_ARGUMENT"), "\(endpoint.stderr)")
    }

    @Test("a bad line in the input: 65 (EX_DATAERR), for cat and validate")
    func dataError() async throws {
        let input = Data("not json\n".utf8) + (try Data(contentsOf: Self.article))
        let cat = try await RunnelProcess.run(["cat"], stdin: input)
        #expect(cat.status == 65, "\(cat.stderr)")
        #expect(cat.stderr.contains("line 1: INVALID_ARGUMENT"), "\(cat.stderr)")
        #expect(cat.stdoutLines.count == 1, "the good line still passes")
        let validate = try await RunnelProcess.run(["validate", "--quiet"], stdin: input)
        #expect(validate.status == 65, "\(validate.stderr)")
    }

    @Test("a file that cannot be opened: 74 (EX_IOERR); the first problem reported decides")
    func ioError() async throws {
        let missing = try await RunnelProcess.run(["cat", "/nonexistent/runnel-exit.jsonl"])
        #expect(missing.status == 74, "\(missing.stderr)")
        #expect(missing.stderr.contains("NOT_FOUND"), "\(missing.stderr)")
        let dir = try RunnelProcess.temporaryDirectory()
        try Data("not json\n".utf8).write(to: dir.appendingPathComponent("bad.jsonl"))
        let both = try await RunnelProcess.run(["cat", "/nonexistent/runnel-exit.jsonl", "bad.jsonl"], in: dir)
        #expect(both.status == 74, "\(both.stderr)")
        let reversed = try await RunnelProcess.run(["cat", "bad.jsonl", "/nonexistent/runnel-exit.jsonl"], in: dir)
        #expect(reversed.status == 65, "\(reversed.stderr)")
        let output = try await RunnelProcess.run(["parse", "--to", "file:/nonexistent/dir/out.jsonl"], stdin: try Data(contentsOf: Self.article))
        #expect(output.status == 74, "\(output.stderr)")
    }

    @Test("a wrong pipeline file: 78 (EX_CONFIG); a missing one: 74")
    func configuration() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        try "[pipeline]\nname = \"broken\"\n".write(to: dir.appendingPathComponent("broken.toml"), atomically: true, encoding: .utf8)
        let broken = try await RunnelProcess.run(["run", "--no-progress", "broken.toml"], in: dir)
        #expect(broken.status == 78, "\(broken.stderr)")
        #expect(broken.stderr.contains("[source] is missing"), "\(broken.stderr)")
        let missing = try await RunnelProcess.run(["run", "--no-progress", "absent.toml"], in: dir)
        #expect(missing.status == 74, "\(missing.stderr)")
    }

    @Test("a TCP listener without a shared key: 78 (EX_CONFIG)")
    func listenerWithoutKey() async throws {
        let result = try await RunnelProcess.exec(
            RunnelProcess.runnel, ["parse", "--listen", "tcp://127.0.0.1:0"], environment: ["RUNNEL_KEY": ""])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.contains("FAILED_PRECONDITION"), "\(result.stderr)")
    }

    @Test("nobody listening: 69 (EX_UNAVAILABLE)", .timeLimit(.minutes(1)))
    func unavailable() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let health = try await RunnelProcess.run(["health", "unix:" + dir.appendingPathComponent("nobody.sock").path])
        #expect(health.status == 69, "\(health.stderr)")
        #expect(health.stderr.contains("UNAVAILABLE"), "\(health.stderr)")

        // A port the OS gave out and took back: nobody listens there. The reason reads as the
        // system says it, not as NIO prints its error ("Connection errors: SingleConnectionFailure(…").
        let port = try Self.closedPort()
        let refused = try await RunnelProcess.run(["health", "tcp://127.0.0.1:\(port)"])
        #expect(refused.status == 69, "\(refused.stderr)")
        #expect(refused.stderr.contains("cannot connect to tcp://127.0.0.1:\(port): Connection refused\n"), "\(refused.stderr)")
    }

    /// A loopback port that was free a moment ago.
    private static func closedPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        try #require(bound)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test("a reader of stdout that goes away (| head): 0 and nothing on stderr")
    func closedStdout() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let line = try Data(contentsOf: Self.article)
        try Data(repeating: 0, count: 0).write(to: dir.appendingPathComponent("big.jsonl"))
        let handle = try FileHandle(forWritingTo: dir.appendingPathComponent("big.jsonl"))
        for _ in 0..<1000 { handle.write(line) }  // ~4 MB: many writes after head has gone
        try handle.close()
        for command in ["cat big.jsonl", "cat --zstd big.jsonl", "relay < big.jsonl", "replay big.jsonl --to -"] {
            let result = try await RunnelProcess.shell(
                "{ \"$RUNNEL\" \(command) 2>stderr.txt; echo $? >status.txt; } | head -c 100 >/dev/null; cat status.txt stderr.txt", in: dir)
            #expect(result.stdoutText == "0\n", "runnel \(command): \(result.stdoutText)")
        }
    }
}
