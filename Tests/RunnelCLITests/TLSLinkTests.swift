import Foundation
import Testing

/// `tls://` links between real processes, with certificates made by the openssl CLI for the
/// test (Scripts/lib/make_certs.sh): a CA, a server and a client certificate, and a server
/// certificate from another CA.
@Suite("TLS links", .serialized)
struct TLSLinkTests {
    let dir: URL
    let certs: String
    let input: URL
    let key = "correct horse battery staple"

    init() async throws {
        dir = try RunnelProcess.temporaryDirectory()
        certs = dir.appendingPathComponent("certs").path
        let script = RunnelProcess.packageRoot.appendingPathComponent("Scripts/lib/make_certs.sh").path
        let made = try await RunnelProcess.exec("/bin/sh", [script, certs])
        guard made.status == 0 else { throw CertificateError(message: made.stderr) }
        input = dir.appendingPathComponent("in.jsonl")
        try writeMessages(50, to: input)
    }

    struct CertificateError: Error { var message: String }

    func cert(_ name: String) -> String { "\(certs)/\(name)" }

    /// Starts `recv --listen tls://HOST:0` and returns it with the port the OS gave it.
    func receiver(
        _ flags: [String], key: String? = nil, host: String = "127.0.0.1", name: String
    ) async throws -> (BackgroundProcess, Int) {
        let recv = try BackgroundProcess(
            ["recv", "--listen", "tls://\(host):0"] + flags, in: dir, name: name,
            environment: BackgroundProcess.listeningEnvironment.merging(["RUNNEL_KEY": key ?? ""]) { $1 })
        return (recv, try await recv.boundPort())
    }

    /// Starts `send` to the receiver. Its finish timeout is well above a handshake under load:
    /// with 2 s a busy CI machine sometimes ran it out before the receiver's refusal came, and
    /// the sender said "never acked" instead of why. A sender that is to be refused gets
    /// `--max-refusals 1` and exits at the refusal with its status (77): left to its finish
    /// timeout it raced the test's wait on a loaded machine.
    func sender(_ port: Int, _ flags: [String], key: String? = nil, name: String) throws -> BackgroundProcess {
        try BackgroundProcess(
            ["send", "tls://127.0.0.1:\(port)", input.path, "--finish-timeout", "15s"] + flags, in: dir, name: name,
            environment: ["RUNNEL_KEY": key ?? ""])
    }

    @Test("a trusted certificate carries every message, acked end to end, with the shared key inside TLS", .timeLimit(.minutes(1)))
    func trusted() async throws {
        let open = try await RunnelProcess.run(
            ["recv", "--listen", "tls://127.0.0.1:0", "--tls-cert", cert("server.pem"), "--tls-key", cert("server.key")], in: dir)
        #expect(open.status != 0, "a TLS listener without a key or client certificates is refused")
        #expect(open.stderr.contains("FAILED_PRECONDITION") && open.stderr.contains("--tls-require-client-cert"), "\(open.stderr)")
        let noCert = try await RunnelProcess.run(["recv", "--listen", "tls://127.0.0.1:0", "--insecure"], in: dir)
        #expect(noCert.status != 0)
        #expect(noCert.stderr.contains("--tls-cert and --tls-key"), "\(noCert.stderr)")

        let (recv, port) = try await receiver(["--tls-cert", cert("server.pem"), "--tls-key", cert("server.key")], key: key, name: "recv")
        let send = try sender(port, ["--tls-ca", cert("ca.pem")], key: key, name: "send")
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")
        // Given up at the first refusal, with the refusal's status: not left to run out its finish
        // timeout, which a loaded machine stretched past the wait (exit 69, or none in time).
        let wrongKey = try sender(port, ["--tls-ca", cert("ca.pem"), "--max-refusals", "1"], key: "another key, long enough", name: "wrong-key")
        #expect(await wrongKey.wait(timeout: .seconds(20)) == 77, "\(wrongKey.stderr)")
        #expect(wrongKey.stderr.contains("UNAUTHENTICATED"), "the key is still checked inside TLS: \(wrongKey.stderr)")
        #expect(wrongKey.stderr.contains("refused the link once"), "\(wrongKey.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 50)
    }

    @Test("an untrusted server certificate is refused, and both sides log why", .timeLimit(.minutes(1)))
    func untrusted() async throws {
        let (recv, port) = try await receiver(["--tls-cert", cert("rogue.pem"), "--tls-key", cert("rogue.key")], key: key, name: "recv")
        let send = try sender(port, ["--tls-ca", cert("ca.pem"), "--max-refusals", "1"], key: key, name: "send")
        #expect(await send.wait(timeout: .seconds(20)) == 77, "\(send.stderr)")
        #expect(send.stderr.contains("UNAUTHENTICATED: tls://127.0.0.1:\(port) refused the link once (TLS handshake with tls://127.0.0.1:\(port) failed"), "\(send.stderr)")
        #expect(send.stderr.contains("certificate not trusted (check --tls-ca"), "\(send.stderr)")
        // (How many wait depends on how far reading the input got before the refusal.)
        #expect(send.stderr.contains("not acked are left to be delivered again"), "\(send.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        #expect(messageIDs(recv.stdout).isEmpty)
        #expect(recv.stderr.contains("UNAUTHENTICATED"), "the listener logs the refusal: \(recv.stderr)")
        #expect(recv.stderr.contains("does not trust this side's certificate"), "\(recv.stderr)")
    }

    @Test("a stage whose downstream keeps refusing its certificate gives up after --max-refusals and exits 77, not never", .timeLimit(.minutes(1)))
    func refusedForGood() async throws {
        let (recv, port) = try await receiver(["--tls-cert", cert("rogue.pem"), "--tls-key", cert("rogue.key")], key: key, name: "recv-rogue")
        defer { recv.signal(SIGKILL) }
        // --finish-timeout 0s waits for acks as long as it takes: only the refusal budget ends it.
        let relay = try BackgroundProcess(
            ["relay", "--listen", "file:" + input.path, "--to", "tls://127.0.0.1:\(port)", "--tls-ca", cert("ca.pem"),
             "--finish-timeout", "0s", "--max-refusals", "2"],
            in: dir, name: "relay-refused", environment: ["RUNNEL_KEY": key])
        #expect(await relay.wait(timeout: .seconds(40)) == 77, "\(relay.stderr)")
        #expect(relay.stderr.contains("refused the link 2 times in a row"), "\(relay.stderr)")
        #expect(relay.stderr.contains("certificate not trusted"), "\(relay.stderr)")
        #expect(messageIDs(recv.stdout).isEmpty)
    }

    @Test("a trusted certificate for another name or address is refused: the host name is checked", .timeLimit(.minutes(1)))
    func wrongName() async throws {
        let (recv, port) = try await receiver(
            ["--tls-cert", cert("server.pem"), "--tls-key", cert("server.key")], key: key, host: "0.0.0.0", name: "recv")
        // The certificate names 127.0.0.1 and localhost; 127.0.0.2 reaches the same listener.
        let send = try BackgroundProcess(
            ["send", "tls://127.0.0.2:\(port)", input.path, "--finish-timeout", "2s", "--tls-ca", cert("ca.pem")], in: dir,
            name: "send", environment: ["RUNNEL_KEY": key])
        #expect(await send.wait(timeout: .seconds(20)) == 69)
        #expect(send.stderr.contains("UNAUTHENTICATED") && send.stderr.contains("does not name this host"), "\(send.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        #expect(messageIDs(recv.stdout).isEmpty)
    }

    @Test("mutual TLS: a peer without a client certificate is refused and logged; with one it is served", .timeLimit(.minutes(1)))
    func mutual() async throws {
        let (recv, port) = try await receiver(
            ["--tls-cert", cert("server.pem"), "--tls-key", cert("server.key"), "--tls-ca", cert("ca.pem"), "--tls-require-client-cert"],
            name: "recv")
        let anonymous = try sender(port, ["--tls-ca", cert("ca.pem"), "--max-refusals", "1"], name: "anonymous")
        #expect(await anonymous.wait(timeout: .seconds(20)) == 77, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("UNAUTHENTICATED"), "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("--tls-client-cert"), "the sender is told what to pass: \(anonymous.stderr)")
        #expect(await eventually { recv.stderr.contains("sent no client certificate") }, "\(recv.stderr)")

        let rogue = try sender(
            port,
            ["--tls-ca", cert("ca.pem"), "--tls-client-cert", cert("rogue.pem"), "--tls-client-key", cert("rogue.key"), "--max-refusals", "1"],
            name: "rogue")
        #expect(await rogue.wait(timeout: .seconds(20)) == 77, "a client certificate from another CA is refused: \(rogue.stderr)")

        let send = try sender(
            port, ["--tls-ca", cert("ca.pem"), "--tls-client-cert", cert("client.pem"), "--tls-client-key", cert("client.key")],
            name: "send")
        #expect(await send.wait(timeout: .seconds(20)) == 0, "\(send.stderr)")
        recv.signal(SIGTERM)
        #expect(await recv.wait(timeout: .seconds(20)) == 0)
        #expect(Set(messageIDs(recv.stdout)).count == 50)
        #expect(recv.stderr.contains("UNAUTHENTICATED"), "\(recv.stderr)")
    }
}
