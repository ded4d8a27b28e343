import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A source that follows its input: `runnel send --follow` reads the lines added to its file, and
/// `follow = true` in `[source]` keeps a pipeline running, taking the pages added to its
/// directory, until it is stopped.
@Suite("Following a growing source")
struct FollowTests {
    /// `runnel recv` listening on a socket in `dir`, once the socket is there.
    static func receiver(in dir: URL) async throws -> (BackgroundProcess, socket: String) {
        let path = dir.appendingPathComponent("recv.sock").path
        let recv = try BackgroundProcess(["recv", "--listen", "unix:" + path], in: dir, name: "recv")
        #expect(await eventually { FileManager.default.fileExists(atPath: path) })
        return (recv, "unix:" + path)
    }

    /// The last part of each example.vn URL `recv` has printed, in order ("a", "b", …).
    static func names(in recv: BackgroundProcess) -> [String] {
        recv.stdout.split(separator: "\n").compactMap { $0.firstMatch(of: /example\.vn\/(\w+)/).map { String($0.1) } }
    }

    @Test("send --follow sends the lines appended to its file, a line only once it is whole, until SIGTERM", .timeLimit(.minutes(1)))
    func sendFollows() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (recv, socket) = try await Self.receiver(in: dir)
        let urls = dir.appendingPathComponent("urls.txt")
        try "https://example.vn/a\n".write(to: urls, atomically: true, encoding: .utf8)
        let cursor = dir.appendingPathComponent("cursor").path
        let send = try BackgroundProcess(["send", socket, urls.path, "--urls", "--follow", "--cursor", cursor], in: dir, name: "send")
        func received() -> Int { recv.stdout.split(separator: "\n").count }
        #expect(await eventually { received() == 1 }, "\(send.stderr)")

        let handle = try FileHandle(forWritingTo: urls)
        handle.seekToEndOfFile()
        handle.write(Data("https://example.vn/b\nhttps://example.vn/c".utf8))  // c is not whole yet
        #expect(await eventually { received() == 2 }, "\(send.stderr)")
        handle.write(Data("\n".utf8))
        try handle.close()
        #expect(await eventually { received() == 3 }, "\(send.stderr)")
        #expect(send.isRunning, "it follows the file past its end: \(send.stderr)")

        send.signal(SIGTERM)
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")
        #expect(recv.stdout.contains("https://example.vn/c"))
        #expect(await eventually { ((try? String(contentsOfFile: cursor, encoding: .utf8)) ?? "").hasPrefix("3") })
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(10))

        let stdin = try await RunnelProcess.run(["send", socket, "--follow"])
        #expect(stdin.status == 64 && stdin.stderr.contains("--follow needs a FILE"), "\(stdin.stderr)")
    }

    @Test("send --follow follows the name: a list saved anew with lines added is read on, one rewritten or rotated from its start; a cursor keeps its count in the first case and ends the reading in the others", .timeLimit(.minutes(1)))
    func sendFollowsTheName() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (recv, socket) = try await Self.receiver(in: dir)
        func received() -> [String] { Self.names(in: recv) }
        let urls = dir.appendingPathComponent("urls.txt")
        try "https://example.vn/a\n".write(to: urls, atomically: true, encoding: .utf8)
        let send = try BackgroundProcess(["send", socket, urls.path, "--urls", "--follow"], in: dir, name: "send")
        #expect(await eventually { received() == ["a"] }, "\(send.stderr)")

        // Saved anew, as an editor saves: a new file renamed over the old name.
        try "https://example.vn/b\n".write(to: urls, atomically: true, encoding: .utf8)
        #expect(await eventually { received() == ["a", "b"] }, "\(send.stderr)")
        // Rotated: moved away, and a new file of that name comes later.
        try FileManager.default.moveItem(at: urls, to: dir.appendingPathComponent("urls.txt.1"))
        try "https://example.vn/c\n".write(to: urls, atomically: false, encoding: .utf8)
        #expect(await eventually { received() == ["a", "b", "c"] }, "\(send.stderr)")
        #expect(send.stderr.contains("urls.txt was replaced (rotated, or saved anew): reading it from its start"), "\(send.stderr)")
        // Saved anew with a line added at its end: only the new line is read.
        try "https://example.vn/c\nhttps://example.vn/e\n".write(to: urls, atomically: true, encoding: .utf8)
        #expect(await eventually { received() == ["a", "b", "c", "e"] }, "\(send.stderr)")
        #expect(send.stderr.contains("urls.txt was saved anew, beginning with all that was read of it: reading on from there"), "\(send.stderr)")
        #expect(send.isRunning, "it follows on: \(send.stderr)")
        send.signal(SIGTERM)
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")

        // A cursor counts the lines of one file: the list saved anew with a line added keeps the
        // count; a list rewritten ends the reading, with what to do.
        let cursor = dir.appendingPathComponent("cursor").path
        let kept = try BackgroundProcess(["send", socket, urls.path, "--urls", "--follow", "--cursor", cursor], in: dir, name: "kept")
        #expect(await eventually { received().count == 6 }, "\(kept.stderr)")
        try "https://example.vn/c\nhttps://example.vn/e\nhttps://example.vn/f\n".write(to: urls, atomically: true, encoding: .utf8)
        #expect(await eventually { received().count == 7 }, "\(kept.stderr)")
        #expect(await eventually { (try? String(contentsOfFile: cursor, encoding: .utf8)) == "3\n" }, "\(kept.stderr)")
        #expect(kept.isRunning, "it follows on: \(kept.stderr)")
        try "https://example.vn/d\n".write(to: urls, atomically: true, encoding: .utf8)
        #expect(await kept.wait(timeout: .seconds(20)) == 0, "it ends by itself: \(kept.stderr)")
        #expect(kept.stderr.contains("remove \(cursor) and run again"), "\(kept.stderr)")
        #expect(received() == ["a", "b", "c", "e", "c", "e", "f"], "d is not read under the old file's cursor")
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(10))
    }

    @Test("send --follow on a list written again in its place (as VS Code or nano save): lines added are read on, a list rewritten or cut is read from its start; a cursor keeps its count when lines were added", .timeLimit(.minutes(1)))
    func sendFollowsRewritesInPlace() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (recv, socket) = try await Self.receiver(in: dir)
        func received() -> [String] { Self.names(in: recv) }
        let urls = dir.appendingPathComponent("urls.txt")
        func save(_ names: String...) throws {
            // Not atomically: the file is cut and written from its start, keeping its inode.
            try names.map { "https://example.vn/\($0)\n" }.joined().write(to: urls, atomically: false, encoding: .utf8)
        }
        try save("a", "b")
        let send = try BackgroundProcess(["send", socket, urls.path, "--urls", "--follow"], in: dir, name: "send")
        #expect(await eventually { received() == ["a", "b"] }, "\(send.stderr)")
        try save("a", "b", "c")
        #expect(await eventually { received() == ["a", "b", "c"] }, "\(send.stderr)")
        // Rewritten, longer: from its start.
        try save("x", "y", "zz", "w")
        #expect(await eventually { received() == ["a", "b", "c", "x", "y", "zz", "w"] }, "\(send.stderr)")
        #expect(send.stderr.contains("urls.txt was written anew in its place: reading it from its start"), "\(send.stderr)")
        // Rewritten, shorter: from its start once its writer is done.
        try save("s")
        #expect(await eventually { received().last == "s" }, "\(send.stderr)")
        #expect(received() == ["a", "b", "c", "x", "y", "zz", "w", "s"], "\(send.stderr)")
        send.signal(SIGTERM)
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")

        let cursor = dir.appendingPathComponent("cursor").path
        let kept = try BackgroundProcess(["send", socket, urls.path, "--urls", "--follow", "--cursor", cursor], in: dir, name: "kept")
        #expect(await eventually { received().count == 9 }, "\(kept.stderr)")
        try save("s", "t")
        #expect(await eventually { received().count == 10 }, "\(kept.stderr)")
        #expect(await eventually { (try? String(contentsOfFile: cursor, encoding: .utf8)) == "2\n" }, "\(kept.stderr)")
        #expect(kept.isRunning, "it follows on: \(kept.stderr)")
        kept.signal(SIGTERM)
        #expect(await kept.wait(timeout: .seconds(20)) == 0, "\(kept.stderr)")
        #expect(received().suffix(3) == ["s", "s", "t"], "\(received())")
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(10))
    }

    @Test("send --follow on a named pipe reads what each new writer writes, with no offsets to compare", .timeLimit(.minutes(1)))
    func sendFollowsNamedPipe() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (recv, socket) = try await Self.receiver(in: dir)
        func received() -> [String] { Self.names(in: recv) }
        let pipe = dir.appendingPathComponent("urls.fifo").path
        #expect(mkfifo(pipe, 0o600) == 0)
        // Opened for reading and writing, the pipe has a writer at once, and keeps what is written
        // until the reader takes it.
        func write(_ name: String) -> Int32 {
            let fd = open(pipe, O_RDWR)
            let line = Array("https://example.vn/\(name)\n".utf8)
            #expect(Glibc.write(fd, line, line.count) == line.count)
            return fd
        }
        let first = write("a")
        let send = try BackgroundProcess(["send", socket, pipe, "--urls", "--follow"], in: dir, name: "send")
        #expect(await eventually { received() == ["a"] }, "\(send.stderr)")
        close(first)  // the end of the input, for now
        let second = write("b")
        #expect(await eventually { received() == ["a", "b"] }, "\(send.stderr)")
        close(second)
        #expect(send.isRunning, "it follows on: \(send.stderr)")
        send.signal(SIGTERM)
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")
        #expect(!send.stderr.contains("from its start"), "\(send.stderr)")
        recv.signal(SIGTERM)
        _ = await recv.wait(timeout: .seconds(10))
    }

    @Test("follow = true on a page directory: a page moved in later goes through, status has no total, SIGTERM ends with 0", .timeLimit(.minutes(2)))
    func pipelineFollowsDirectory() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("follow")
        let file = try SupervisorTests.pipeline(name, pages: 5, stages: SupervisorTests.relays, in: dir)
        let text = try String(contentsOf: file, encoding: .utf8).replacingOccurrences(
            of: "directory = \"pages\"", with: "directory = \"pages\"\nfollow = true")
        try text.write(to: file, atomically: true, encoding: .utf8)
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        // The source's cursor tells what is done end to end.
        func done() -> Int { SupervisorLifecycleTests.cursor(dir, name) }
        #expect(await eventually(timeout: .seconds(60)) { done() == 5 }, "\(run.stderr)")
        #expect(run.isRunning, "it goes on past the last page: \(run.stderr)")

        // A page written elsewhere and moved in arrives whole.
        let page = "<html><head><title>Tin mới</title></head><body><p>Phái bộ ngoại giao mới.</p></body></html>"
        let staged = dir.appendingPathComponent("new.html")
        try page.write(to: staged, atomically: true, encoding: .utf8)
        try FileManager.default.moveItem(at: staged, to: dir.appendingPathComponent("pages/p99999.html"))
        #expect(await eventually(timeout: .seconds(30)) { done() == 6 }, "\(run.stderr)")
        #expect(run.stderr.contains("source: 1 new page in"), "\(run.stderr)")

        let status = try await RunnelProcess.run(["status", "--name", name])
        #expect(status.status == 0, "\(status.stderr)")
        #expect(!status.stdoutText.contains("/0 done"), "no total while following: \(status.stdoutText)")

        run.signal(SIGTERM)
        #expect(await run.wait(timeout: .seconds(60)) == 0, "\(run.stderr)")
        #expect(run.stderr.contains("6 outputs"), "the last stage wrote six lines: \(run.stderr)")
    }

    @Test("runnel run --follow keeps a finished pipeline up until runnel stop; refused on a stdin source", .timeLimit(.minutes(2)))
    func runFlag() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let name = SupervisorTests.uniqueName("followflag")
        let file = try SupervisorTests.pipeline(name, pages: 3, stages: SupervisorTests.relays, in: dir)
        let run = try BackgroundProcess(["run", file.path, "--no-progress", "--follow"], in: dir, name: "run")
        #expect(await eventually(timeout: .seconds(60)) { SupervisorLifecycleTests.cursor(dir, name) == 3 }, "\(run.stderr)")
        #expect(run.isRunning, "it goes on past the last page: \(run.stderr)")
        let stop = try await RunnelProcess.run(["stop", "--name", name])
        #expect(stop.status == 0, "\(stop.stderr)")
        #expect(await run.wait(timeout: .seconds(60)) == 0, "\(run.stderr)")

        let stdin = dir.appendingPathComponent("stdin.toml")
        try "[source]\nurls = \"-\"\n[[stage]]\nname = \"relay\"\n".write(to: stdin, atomically: true, encoding: .utf8)
        let refused = try await RunnelProcess.run(["run", stdin.path, "--follow"], in: dir)
        #expect(refused.status == 64, "\(refused.stderr)")
        #expect(refused.stderr.contains("--follow is for a source file or directory"), "\(refused.stderr)")
    }
}
