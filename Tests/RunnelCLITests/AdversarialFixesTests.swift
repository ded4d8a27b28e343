import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// What the adversarial suite (`Scripts/adversarial/`) found wrong in commands, flags and
/// pipeline files, each against the real binary: the status the README's table gives, and no
/// password in what `runnel check` prints.
@Suite("Adversarial fixes")
struct AdversarialFixesTests {
    @Test("a cursor file that cannot be written stops send before it sends anything: 74, naming the file")
    func cursorCannotBeWritten() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let urls = dir.appendingPathComponent("urls.txt")
        try Data("https://vov.vn/a.html\n".utf8).write(to: urls)
        // A cursor under a regular file: no user, root included, can create it.
        let cursor = urls.path + "/cursor"
        let nobody = "unix:" + dir.appendingPathComponent("nobody.sock").path  // never reached
        let send = try await RunnelProcess.run(["send", nobody, urls.path, "--urls", "--cursor", cursor])
        #expect(send.status == 74, "\(send.stderr)")
        #expect(send.stderr.contains("cannot write the cursor file \(cursor)"), "\(send.stderr)")
    }

    @Test("a line over --max-line does not hold the cursor back: once every line is done, the cursor says so", .timeLimit(.minutes(1)))
    func longLineAndCursor() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // The long line ends in the chunk it is read in: the decoder has counted it when it says
        // so, and the reader took the next line's index for it, which then never completed.
        var lines = (1...3).map { #"{"id":"a\#($0)","type":"note.x","body":{}}"# }
        lines.append(#"{"id":"long","type":"note.x","body":{"pad":"\#(String(repeating: "x", count: 400))"}}"#)
        lines += (4...6).map { #"{"id":"a\#($0)","type":"note.x","body":{}}"# }
        let input = dir.appendingPathComponent("in.jsonl")
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: input)
        let cursor = dir.appendingPathComponent("cursor").path
        let socket = dir.appendingPathComponent("recv.sock").path
        let recv = try BackgroundProcess(["recv", "--listen", "unix:" + socket], in: dir, name: "recv")
        defer { recv.signal(SIGKILL) }
        #expect(await eventually { FileManager.default.fileExists(atPath: socket) })
        let send = try await RunnelProcess.run(["send", "unix:" + socket, input.path, "--cursor", cursor, "--max-line", "200"])
        #expect(send.status == 0, "\(send.stderr)")
        let kept = try String(contentsOfFile: cursor, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(kept == "7", "all seven lines are done (the long one as an error record), not 3: \(kept) \(send.stderr)")
    }

    @Test("log check reports a numbered file missing between two others: 65, naming it")
    func logGap() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let line = Data(#"{"id":"a","type":"note.x","body":{}}"#.utf8 + [10])
        let log = dir.appendingPathComponent("log.jsonl.zst").path
        let capture = try await RunnelProcess.run(["relay", "--capture-out", log], stdin: line)
        #expect(capture.status == 0, "\(capture.stderr)")
        let first = dir.appendingPathComponent("log.000001.jsonl.zst")
        #expect(try await RunnelProcess.run(["log", "check", log]).status == 0, "one file, no gap")
        try FileManager.default.copyItem(at: first, to: dir.appendingPathComponent("log.000003.jsonl.zst"))
        let check = try await RunnelProcess.run(["log", "check", log])
        #expect(check.status == 65, "\(check.stderr)")
        #expect(check.stdoutText.contains("DATA_LOSS: ") && check.stdoutText.contains("log.000002.jsonl.zst is missing"), "\(check.stdoutText)")
    }

    @Test("a directory where a file is read or written: 74 (EX_IOERR), not 70")
    func directoryForFile() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("adir")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        let cat = try await RunnelProcess.run(["cat", sub.path])
        #expect(cat.status == 74, "\(cat.stderr)")
        let validate = try await RunnelProcess.run(["validate", sub.path])
        #expect(validate.status == 74, "\(validate.stderr)")
        let line = Data(#"{"id":"a","seq":1,"type":"note.x","ts":"2026-12-01T00:00:00Z","attempt":1,"body":{}}"#.utf8 + [10])
        let output = try await RunnelProcess.run(["relay", "--to", "file:" + sub.path], stdin: line)
        #expect(output.status == 74, "\(output.stderr)")
        let deadLetter = try await RunnelProcess.run(["relay", "--dead-letter", sub.path], stdin: Data("{nope\n".utf8))
        #expect(deadLetter.status == 74, "\(deadLetter.stderr)")
    }

    @Test("cat --zstd and export --zstd refuse a level past -7…19, as the stages do")
    func zstdLevel() async throws {
        for args in [["cat", "--zstd", "--level", "20"], ["cat", "--level", "-8"], ["export", "--zstd", "--level", "99"]] {
            let result = try await RunnelProcess.run(args)
            #expect(result.status == 64, "\(args): \(result.stderr)")
            #expect(result.stderr.contains("--level"), "\(args): \(result.stderr)")
        }
    }

    @Test("a negative --level, which the help offers, is taken as a level and not as an option")
    func negativeZstdLevel() async throws {
        let line = #"{"id":"m1","type":"url.requested","body":{"url":"https://example.vn/a"}}"# + "\n"
        for args in [["relay", "--zstd", "--level", "-3"], ["cat", "--zstd", "--level", "-7"]] {
            let result = try await RunnelProcess.run(args, stdin: Data(line.utf8))
            #expect(result.status == 0, "\(args): \(result.stderr)")
            #expect(result.stdout.prefix(4) == Data([0x28, 0xB5, 0x2F, 0xFD]), "\(args): not zstd")
            let back = try await RunnelProcess.run(["cat"], stdin: result.stdout)
            #expect(messageIDs(back.stdoutText) == ["m1"], "\(args): \(back.stderr)")
        }
    }

    @Test("--name with / or .. is refused before it names a path outside the run directory")
    func pipelineNameTraversal() async throws {
        for command in ["status", "stop", "top"] {
            let result = try await RunnelProcess.run([command, "--name", "../../etc"])
            #expect(result.status == 64, "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("/etc/control.sock"), "\(command): \(result.stderr)")
        }
    }

    @Test("store --describe opens no database: check needs neither the file nor the server")
    func storeDescribeOpensNothing() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let file = dir.appendingPathComponent("never.sqlite")
        let sqlite = try await RunnelProcess.run(["store", "--describe", "--db", file.path])
        #expect(sqlite.status == 0, "\(sqlite.stderr)")
        #expect(sqlite.stdoutText.contains("article.parsed"), "\(sqlite.stdoutText)")
        #expect(!FileManager.default.fileExists(atPath: file.path), "--describe created the database")
        let postgres = try await RunnelProcess.run(["store", "--describe", "--db", "postgres://u:pw@127.0.0.1:1/news"])
        #expect(postgres.status == 0, "an unreachable server: \(postgres.stderr)")
    }

    @Test("runnel check shows a stage's command line without the password in its URLs")
    func checkRedactsPasswords() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pages"), withIntermediateDirectories: true)
        let file = dir.appendingPathComponent("p.toml")
        try """
            [source]
            directory = "pages"
            [[stage]]
            name = "store"
            args = ["--db", "postgres://runnel:S3CRET@pw@127.0.0.1:1/news", "--window", "0"]
            """.write(to: file, atomically: true, encoding: .utf8)
        let check = try await RunnelProcess.run(["check", file.path])
        #expect(check.status == 78, "\(check.stderr)")
        #expect(check.stderr.contains("runnel:***@127.0.0.1"), "\(check.stderr)")
        #expect(!check.stderr.contains("S3CRET") && !check.stderr.contains("@pw@"), "\(check.stderr)")
    }

    @Test("check reports a [source] that run would not find, and a name too long for sockets, at their lines")
    func checkSourceAndName() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("missing.toml")
        try "[source]\ndirectory = \"nopages\"\n[[stage]]\nname = \"relay\"\n".write(to: missing, atomically: true, encoding: .utf8)
        let source = try await RunnelProcess.run(["check", missing.path])
        #expect(source.status == 78, "\(source.stderr)")
        #expect(source.stderr.contains("missing.toml:2: key \"directory\""), "\(source.stderr)")
        let urls = dir.appendingPathComponent("urls.toml")
        try "[source]\nurls = \"nourls.txt\"\n[[stage]]\nname = \"relay\"\n".write(to: urls, atomically: true, encoding: .utf8)
        let noURLs = try await RunnelProcess.run(["check", urls.path])
        #expect(noURLs.status == 78, "\(noURLs.stderr)")
        #expect(noURLs.stderr.contains("urls.toml:2: key \"urls\""), "\(noURLs.stderr)")
        let long = dir.appendingPathComponent("long.toml")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("pages"), withIntermediateDirectories: true)
        try "[pipeline]\nname = \"\(String(repeating: "a", count: 120))\"\n[source]\ndirectory = \"pages\"\n[[stage]]\nname = \"relay\"\n"
            .write(to: long, atomically: true, encoding: .utf8)
        let name = try await RunnelProcess.run(["check", long.path])
        #expect(name.status == 78, "\(name.stderr)")
        #expect(name.stderr.contains("long.toml:2: key \"name\""), "\(name.stderr)")
    }

    @Test("a closed stderr does not hide the exit status: 64, not death by SIGPIPE")
    func closedStandardError() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: RunnelProcess.runnel)
        process.arguments = ["relay", "--window", "0"]
        let pipe = Pipe()
        try pipe.fileHandleForReading.close()  // the reader of stderr went away
        process.standardError = pipe
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 64)
    }

    @Test("SIGHUP (a closed terminal) drains runnel run like SIGTERM: exit 0, no socket left", .timeLimit(.minutes(2)))
    func sighupDrainsTheRun() async throws {
        let (dir, name, file) = try SupervisorLifecycleTests.slowPipeline("hup")
        defer { try? FileManager.default.removeItem(at: dir) }
        let run = try BackgroundProcess(["run", file.path, "--no-progress"], in: dir, name: "run")
        #expect(await eventually(timeout: .seconds(30)) { SupervisorLifecycleTests.cursor(dir, name) >= 10 })
        run.signal(SIGHUP)
        #expect(await run.wait(timeout: .seconds(30)) == 0, "\(run.stderr)")
        #expect(SupervisorLifecycleTests.sockets(name).isEmpty, "\(SupervisorLifecycleTests.sockets(name))")
        #expect(SupervisorLifecycleTests.children(of: run.pid).isEmpty)
    }

    @Test("store into a directory it may not write: PERMISSION_DENIED, 74 (it was FAILED_PRECONDITION, 78)")
    func storeIntoReadOnlyDirectory() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer {
            chmod(dir.path, 0o755)
            try? FileManager.default.removeItem(at: dir)
        }
        // root writes anywhere its file system lets it: /proc/sys is one it does not
        let readOnly = getuid() == 0 ? "/proc/sys" : dir.path
        if getuid() != 0 { chmod(dir.path, 0o555) }
        let store = try await RunnelProcess.run(["store", "--db", readOnly + "/news.sqlite"])
        #expect(store.status == 74, "\(store.stderr)")
        #expect(store.stderr.contains("PERMISSION_DENIED"), "\(store.stderr)")
    }

    @Test("key new --force replaces a key file, never a device or a directory")
    func keyForceReplacesFilesOnly() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let fifo = dir.appendingPathComponent("fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        let sub = dir.appendingPathComponent("adir")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        for path in [fifo, sub.path] {
            let result = try await RunnelProcess.run(["key", "new", "--force", path])
            #expect(result.status == 64, "\(path): \(result.stderr)")
        }
        var info = stat()
        #expect(lstat(fifo, &info) == 0 && info.st_mode & S_IFMT == S_IFIFO, "the FIFO was replaced")
        let key = dir.appendingPathComponent("k").path
        #expect(try await RunnelProcess.run(["key", "new", key]).status == 0)
        let replaced = try await RunnelProcess.run(["key", "new", "--force", key])
        #expect(replaced.status == 0, "\(replaced.stderr)")
    }
}
