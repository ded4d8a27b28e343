@preconcurrency import Crypto
import Foundation
import RunnelProtocol

/// The opening of a link (`Protocol/PROTOCOL.md` §7.1–7.2): `hello` both ways, version
/// negotiation, the type check, and on links with a shared key an HMAC-SHA256 challenge.
///
/// Both sides send `hello` at once without waiting. With a key, each `hello` carries a fresh
/// `nonce`; after reading the peer's, each side sends a second `hello` with
/// `proof = hex(HMAC-SHA256(key, ROLE ":" peer_nonce))`, ROLE being `connect` or `accept`, and
/// checks the peer's proof against its own nonce. Any failure is answered with `bye` and a status.
///
/// The key is proved on network links only (`tcp://`, `tls://`; the reader tells,
/// ``LineReader/isNetwork``). On a Unix socket neither side sends a nonce, key or no key: the
/// socket's directory, which only its owner can enter, is what keeps others out. So a tool
/// without the key (`runnel health unix:…`) reaches a stage that has one for its TCP links.
public struct Handshake: Sendable {
    /// Which end of the link this side is.
    public enum Role: String, Sendable {
        case connect, accept
    }

    /// This side's hello (versions, name, types); nonce and proof are filled in here.
    public var local: Hello
    /// The shared key, proved on network links (a Unix socket link ignores it).
    public var key: SharedKey?

    public init(local: Hello, key: SharedKey? = nil) {
        self.local = local
        self.key = key
    }

    /// Checks the `hello` a one-way stream (stdin, a file, a log) begins with, as a link's is
    /// checked (PROTOCOL.md §7): a common version, and types the reader accepts.
    /// - Throws: `UNIMPLEMENTED` or `FAILED_PRECONDITION`; the reader stops there.
    public static func checkStreamHello(_ writer: Hello, reader: Hello) throws(RunnelError) {
        let handshake = Handshake(local: reader)
        _ = try handshake.negotiateVersion(writer)
        try handshake.checkTypes(sender: writer, receiver: reader)
    }

    /// The listener's side. Returns the connector's hello.
    /// - Throws: ``RunnelError`` (the peer was told why with `bye`).
    public func accept(_ reader: inout LineReader, _ writer: LineWriter) async throws(RunnelError) -> Hello {
        try await perform(.accept, &reader, writer)
    }

    /// The connector's side. Returns the listener's hello.
    /// - Throws: ``RunnelError``: the listener's `bye` reason, or what was wrong with it.
    public func connect(_ reader: inout LineReader, _ writer: LineWriter) async throws(RunnelError) -> Hello {
        try await perform(.connect, &reader, writer)
    }

    private func perform(_ role: Role, _ reader: inout LineReader, _ writer: LineWriter) async throws(RunnelError) -> Hello {
        var hello = local
        let key = reader.isNetwork ? self.key : nil
        let nonce = key.map { _ in Self.makeNonce() }
        hello.nonce = nonce
        try writer.send(.hello(hello))
        let who = role == .accept ? "the connecting peer" : "the listening peer"
        var peerSaidBye = false
        do throws(RunnelError) {
            let peer = try await Self.readHello(&reader, from: who, proofRequired: key != nil, saidBye: &peerSaidBye)
            try await check(peer, role, &reader, writer, hello: hello, key: key, nonce: nonce, saidBye: &peerSaidBye)
            return peer
        } catch {
            // Every refusal is told to the peer before the close (PROTOCOL.md §7.1), unless the
            // peer itself said bye or went away.
            if !peerSaidBye { try? writer.send(.bye(Bye(code: error.code, message: error.message))) }
            throw error
        }
    }

    private func check(
        _ peer: Hello, _ role: Role, _ reader: inout LineReader, _ writer: LineWriter, hello: Hello, key: SharedKey?,
        nonce: String?, saidBye: inout Bool
    ) async throws(RunnelError) {
        var hello = hello
        _ = try negotiateVersion(peer)
        if let key, let nonce {
            guard let peerNonce = peer.nonce else {
                throw RunnelError(
                    .unauthenticated,
                    "\(peer.stage) sent no nonce: it has no shared key, and this link requires one")
            }
            hello.proof = Self.sign(nonce: peerNonce, key: key, role: role)
            try writer.send(.hello(hello))
            let second = try await Self.readHello(&reader, from: peer.stage, proofRequired: true, saidBye: &saidBye)
            let peerRole: Role = role == .accept ? .connect : .accept
            guard let proof = second.proof, Self.verify(proof, nonce: nonce, key: key, role: peerRole) else {
                throw RunnelError(
                    .unauthenticated,
                    second.proof == nil ? "\(peer.stage) sent no proof" : "\(peer.stage) proved a different key")
            }
        } else if peer.nonce != nil {
            throw RunnelError(
                .unauthenticated, "\(peer.stage) requires the shared key; pass --key-file or set RUNNEL_KEY")
        }
        if role == .accept { try checkTypes(sender: peer, receiver: local) }
    }

    func negotiateVersion(_ peer: Hello) throws(RunnelError) -> Int {
        guard let version = Set(local.versions).intersection(peer.versions).max() else {
            throw RunnelError(
                .unimplemented,
                "no common protocol version: \(local.stage) speaks \(local.versions.map(String.init).joined(separator: ", ")), \(peer.stage) speaks \(peer.versions.map(String.init).joined(separator: ", "))"
            )
        }
        return version
    }

    /// Every type the sender emits must be accepted by the receiver (or the receiver accepts
    /// anything). `error` records are always accepted: they pass through every stage.
    func checkTypes(sender: Hello, receiver: Hello) throws(RunnelError) {
        guard !receiver.accepts.contains("*"), !sender.emits.contains("*") else { return }
        let refused = sender.emits.filter { $0 != MessageType.error && !receiver.accepts.contains($0) }
        if !refused.isEmpty {
            throw RunnelError(
                .failedPrecondition,
                "type mismatch: \(sender.stage) emits \(refused.joined(separator: ", ")); \(receiver.stage) accepts \(receiver.accepts.joined(separator: ", "))"
            )
        }
    }

    /// Reads the peer's `hello`. Anything else first is refused (PROTOCOL.md §7.1):
    /// `FAILED_PRECONDITION`, or `UNAUTHENTICATED` where a proof is required; a stream that is
    /// not a stream of lines (binary bytes, broken zstd) with its own code (`DATA_LOSS`).
    /// - Parameter saidBye: set when the peer ended the link itself (its `bye`, or a close):
    ///   then it is not answered.
    static func readHello(
        _ reader: inout LineReader, from who: String, proofRequired: Bool = false, saidBye: inout Bool
    ) async throws(RunnelError) -> Hello {
        let notHello: StatusCode = proofRequired ? .unauthenticated : .failedPrecondition
        guard let input = try await reader.next() else {
            saidBye = true
            throw RunnelError(.unavailable, "\(who) closed the link before saying hello")
        }
        guard case let .line(line) = input else {
            guard case let .refused(problem, _) = input else { throw RunnelError(notHello, "\(who) did not start with hello") }
            throw RunnelError(
                notHello, "\(who) did not start with hello but with a line that cannot be read (\(problem.code.name): \(problem.message))")
        }
        switch line {
        case let .control(.hello(hello)): return hello
        case let .control(.bye(bye)):
            saidBye = true
            throw RunnelError(bye.code == .ok ? .unavailable : bye.code, "\(who) refused the link: \(bye.message)")
        case let .control(control):
            throw RunnelError(notHello, "\(who) sent \(control.name) before hello; a link opens with hello (is it a Runnel peer?)")
        case .data:
            throw RunnelError(notHello, "\(who) sent a data message before hello; a link opens with hello (is it a Runnel peer?)")
        }
    }

    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// `hex(HMAC-SHA256(key, ROLE ":" nonce))`: the role keeps a proof made on one connection
    /// from being reflected back on another.
    static func sign(nonce: String, key: SharedKey, role: Role) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(role.rawValue):\(nonce)".utf8), using: key.symmetric)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    static func verify(_ proof: String, nonce: String, key: SharedKey, role: Role) -> Bool {
        var bytes: [UInt8] = []
        var iterator = proof.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = JSONHex.value(high), let l = JSONHex.value(low) else { return false }
            bytes.append(h << 4 | l)
        }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes, authenticating: Data("\(role.rawValue):\(nonce)".utf8), using: key.symmetric)
    }
}

enum JSONHex {
    static func value(_ b: UInt8) -> UInt8? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): b - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): b - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): b - 55
        default: nil
        }
    }
}

/// The secret that TCP links prove they share, never sent on the wire.
public struct SharedKey: Sendable {
    let bytes: [UInt8]

    public init(_ secret: String) {
        bytes = Array(secret.utf8)
    }

    var symmetric: SymmetricKey { SymmetricKey(data: bytes) }

    /// Loads the shared key: the file's contents (trimmed), or else `RUNNEL_KEY`; `nil` if neither.
    /// - Throws: ``RunnelError`` naming the file, or saying the key is too short.
    public static func load(file: String?, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(RunnelError) -> SharedKey?
    {
        var text: String?
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw RunnelError(.notFound, "cannot read the key file \(file)")
            }
            text = String(decoding: data, as: UTF8.self)
        } else {
            text = environment["RUNNEL_KEY"]
        }
        guard let secret = text?.trimmingCharacters(in: .whitespacesAndNewlines), !secret.isEmpty else { return nil }
        guard secret.utf8.count >= 16 else {
            throw RunnelError(
                .invalidArgument,
                "the shared key is too short (\(secret.utf8.count) bytes; use 16 or more: runnel key new FILE makes one)")
        }
        return SharedKey(secret)
    }
}
