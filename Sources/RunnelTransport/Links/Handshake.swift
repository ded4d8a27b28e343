@preconcurrency import Crypto
import Foundation
import RunnelProtocol

/// The opening of a link: `hello` both ways, version negotiation, the type check, and on
/// links with a shared key an HMAC-SHA256 challenge in each direction.
///
/// The listener speaks first. Without a key: listener `hello`, connector `hello`, then the
/// listener grants credit (or says `bye` with why). With a key, the listener's first `hello`
/// carries a `nonce`; the connector's `hello` carries its own `nonce` and a `proof` (HMAC of the
/// listener's nonce); the listener checks it and answers with a second `hello` whose `proof`
/// signs the connector's nonce, so each side knows the other holds the key.
public struct Handshake: Sendable {
    /// This side's hello (versions, name, types); nonce and proof are filled in here.
    public var local: Hello
    /// The shared key, if the link authenticates.
    public var key: SharedKey?
    /// How long the peer may take.
    public var timeout: Duration

    public init(local: Hello, key: SharedKey? = nil, timeout: Duration = .seconds(10)) {
        self.local = local
        self.key = key
        self.timeout = timeout
    }

    /// The listener's side. Returns the connector's hello.
    /// - Throws: ``RunnelError`` (the peer was told why with `bye`).
    public func accept(_ reader: inout LineReader, _ writer: LineWriter) async throws(RunnelError) -> Hello {
        var hello = local
        let nonce = key.map { _ in Self.makeNonce() }
        hello.nonce = nonce
        try await writer.send(.hello(hello))
        let peer = try await Self.readHello(&reader, from: "the connecting peer")
        do throws(RunnelError) {
            _ = try negotiateVersion(peer)
            if let key, let nonce {
                guard let proof = peer.proof, Self.verify(proof, nonce: nonce, key: key, role: "connector") else {
                    throw RunnelError(
                        .unauthenticated,
                        peer.proof == nil
                            ? "\(peer.stage) sent no proof; this link needs the shared key (--key-file or RUNNEL_KEY)"
                            : "\(peer.stage) proved a different key")
                }
                guard let peerNonce = peer.nonce else {
                    throw RunnelError(.unauthenticated, "\(peer.stage) sent no nonce to sign")
                }
                var answer = Hello(versions: local.versions, stage: local.stage, accepts: local.accepts, emits: local.emits)
                answer.proof = Self.sign(nonce: peerNonce, key: key, role: "listener")
                try await writer.send(.hello(answer))
            }
            try checkTypes(sender: peer, receiver: local)
        } catch {
            try? await writer.send(.bye(Bye(code: error.code, message: error.message)))
            throw error
        }
        return peer
    }

    /// The connector's side. Returns the listener's hello.
    /// - Throws: ``RunnelError``: the listener's `bye` reason, or what was wrong with it.
    public func connect(_ reader: inout LineReader, _ writer: LineWriter) async throws(RunnelError) -> Hello {
        let peer = try await Self.readHello(&reader, from: "the listening peer")
        do throws(RunnelError) {
            _ = try negotiateVersion(peer)
            if peer.nonce != nil && key == nil {
                throw RunnelError(
                    .unauthenticated, "\(peer.stage) requires the shared key; pass --key-file or set RUNNEL_KEY")
            }
        } catch {
            try? await writer.send(.bye(Bye(code: error.code, message: error.message)))
            throw error
        }
        var hello = local
        var myNonce: String?
        if let key, let peerNonce = peer.nonce {
            myNonce = Self.makeNonce()
            hello.nonce = myNonce
            hello.proof = Self.sign(nonce: peerNonce, key: key, role: "connector")
        }
        try await writer.send(.hello(hello))
        if let key, let myNonce {
            let answer = try await Self.readHello(&reader, from: peer.stage)
            guard let proof = answer.proof, Self.verify(proof, nonce: myNonce, key: key, role: "listener") else {
                let error = RunnelError(.unauthenticated, "\(peer.stage) did not prove the shared key")
                try? await writer.send(.bye(Bye(code: error.code, message: error.message)))
                throw error
            }
        }
        return peer
    }

    func negotiateVersion(_ peer: Hello) throws(RunnelError) -> Int {
        guard let version = Set(local.versions).intersection(peer.versions).max() else {
            throw RunnelError(
                .failedPrecondition,
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
                "\(sender.stage) emits \(refused.joined(separator: ", ")) but \(receiver.stage) accepts only \(receiver.accepts.joined(separator: ", "))"
            )
        }
    }

    static func readHello(_ reader: inout LineReader, from who: String) async throws(RunnelError) -> Hello {
        guard let line = try await reader.next() else {
            throw RunnelError(.unavailable, "\(who) closed the link before saying hello")
        }
        switch line {
        case let .control(.hello(hello)): return hello
        case let .control(.bye(bye)):
            throw RunnelError(bye.code == .ok ? .unavailable : bye.code, "\(who) refused the link: \(bye.message)")
        default:
            throw RunnelError(.failedPrecondition, "\(who) did not start with hello (is it a Runnel peer?)")
        }
    }

    static func makeNonce() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<16).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }

    /// HMAC-SHA256 over "runnel/1 ROLE NONCE", hex: the role keeps a proof from being replayed
    /// in the other direction.
    static func sign(nonce: String, key: SharedKey, role: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("runnel/1 \(role) \(nonce)".utf8), using: key.symmetric)
        return mac.map { String(format: "%02x", $0) }.joined()
    }

    static func verify(_ proof: String, nonce: String, key: SharedKey, role: String) -> Bool {
        var bytes: [UInt8] = []
        var iterator = proof.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = JSONHex.value(high), let l = JSONHex.value(low) else { return false }
            bytes.append(h << 4 | l)
        }
        return HMAC<SHA256>.isValidAuthenticationCode(
            bytes, authenticating: Data("runnel/1 \(role) \(nonce)".utf8), using: key.symmetric)
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
                "the shared key is too short (\(secret.utf8.count) bytes; use 16 or more, e.g. openssl rand -hex 32)")
        }
        return SharedKey(secret)
    }
}
