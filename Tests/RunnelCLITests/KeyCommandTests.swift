import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `runnel key new`, and when links need the key: tcp:// yes, Unix sockets no.
@Suite("runnel key, and where the shared key applies")
struct KeyCommandTests {
    @Test("key new writes 64 hex digits to a new file with mode 0600 (whatever the umask); two keys differ")
    func newKeyFile() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let made = try await RunnelProcess.shell(#"umask 000 && "$RUNNEL" key new a.key && "$RUNNEL" key new b.key"#, in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        #expect(made.stdout.isEmpty, "the key goes to the file only")
        var keys: [String] = []
        for name in ["a.key", "b.key"] {
            let path = dir.appendingPathComponent(name).path
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600, "\(name)")
            let key = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(key.count == 64 && key.allSatisfy(\.isHexDigit), "\(key)")
            keys.append(key)
        }
        #expect(keys[0] != keys[1])

        let printed = try await RunnelProcess.run(["key", "new"])
        #expect(printed.status == 0)
        #expect(printed.stdoutLines.count == 1 && printed.stdoutLines[0].count == 64)
        #expect(!keys.contains(printed.stdoutLines[0]))
    }

    @Test("key new refuses to overwrite a file unless --force, which replaces it and keeps mode 0600")
    func refusesOverwrite() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let path = dir.appendingPathComponent("runnel.key").path
        try "the old key, keep me please\n".write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)

        let refused = try await RunnelProcess.run(["key", "new", "runnel.key"], in: dir)
        #expect(refused.status == 74, "EX_IOERR: \(refused.stderr)")
        #expect(refused.stderr.contains("ALREADY_EXISTS"), "\(refused.stderr)")
        #expect(refused.stderr.contains("--force"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "the old key, keep me please\n")

        let forced = try await RunnelProcess.run(["key", "new", "runnel.key", "--force"], in: dir)
        #expect(forced.status == 0, "\(forced.stderr)")
        let key = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(key.count == 64)
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["runnel.key"], "no temporary file left")

        let nowhere = try await RunnelProcess.run(["key", "new", "no/such/dir/runnel.key"], in: dir)
        #expect(nowhere.status == 74, "EX_IOERR: \(nowhere.stderr)")
        #expect(nowhere.stderr.contains("no/such/dir/runnel.key"), "\(nowhere.stderr)")
    }

    @Test("a key from key new opens a tcp:// link; a peer without it is refused", .timeLimit(.minutes(1)))
    func keyWorksOnTCP() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let made = try await RunnelProcess.run(["key", "new", "runnel.key"], in: dir)
        #expect(made.status == 0, "\(made.stderr)")
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(20, to: input)

        let recv = try BackgroundProcess(
            ["recv", "--listen", "tcp://127.0.0.1:0", "--key-file", "runnel.key"], in: dir, name: "recv",
            environment: BackgroundProcess.listeningEnvironment.merging(["RUNNEL_KEY": ""]) { $1 })
        defer { recv.signal(SIGKILL) }
        let port = try await recv.boundPort()
        let without = try BackgroundProcess(
            ["send", "tcp://127.0.0.1:\(port)", input.path, "--finish-timeout", "2s"], in: dir, name: "without",
            environment: ["RUNNEL_KEY": ""])
        #expect(await without.wait(timeout: .seconds(20)) != 0)
        #expect(without.stderr.contains("UNAUTHENTICATED"), "\(without.stderr)")
        let with = try BackgroundProcess(
            ["send", "tcp://127.0.0.1:\(port)", input.path, "--key-file", "runnel.key"], in: dir, name: "with",
            environment: ["RUNNEL_KEY": ""])
        #expect(await with.wait(timeout: .seconds(20)) == 0, "\(with.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait() == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 20)
    }

    @Test("a stage with a key takes Unix-socket peers without one (the directory guards the socket)", .timeLimit(.minutes(1)))
    func unixSocketsNeedNoKey() async throws {
        let dir = try RunnelProcess.temporaryDirectory()
        let sock = dir.appendingPathComponent("s").path
        let input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(20, to: input)
        let key = "correct horse battery staple"
        let recv = try BackgroundProcess(
            ["recv", "--listen", "unix:\(sock)/recv.sock"], in: dir, name: "recv", environment: ["RUNNEL_KEY": key])
        #expect(await eventually { FileManager.default.fileExists(atPath: "\(sock)/recv.sock") })

        let health = try await RunnelProcess.exec(RunnelProcess.runnel, ["health", "unix:\(sock)/recv.sock"], environment: ["RUNNEL_KEY": ""])
        #expect(health.status == 0, "\(health.stderr)")
        #expect(health.stdoutText == "SERVING\n")
        let withoutKey = try await RunnelProcess.exec(
            RunnelProcess.runnel, ["send", "unix:\(sock)/recv.sock", input.path], environment: ["RUNNEL_KEY": ""])
        #expect(withoutKey.status == 0, "\(withoutKey.stderr)")
        let otherKey = try await RunnelProcess.exec(
            RunnelProcess.runnel, ["send", "unix:\(sock)/recv.sock", input.path],
            environment: ["RUNNEL_KEY": "another key, long enough"])
        #expect(otherKey.status == 0, "a key is not proved on a Unix socket: \(otherKey.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait() == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 20)
        #expect(!recv.stderr.contains("UNAUTHENTICATED"), "\(recv.stderr)")
    }
}
