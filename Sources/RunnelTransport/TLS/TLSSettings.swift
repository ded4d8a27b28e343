import Foundation
import NIOCore
import NIOSSL
import RunnelProtocol

/// How this side speaks TLS on `tls://` links: the certificate it shows, the roots it trusts,
/// and whether it shows or demands a client certificate (mutual TLS).
///
/// Every field has a default: a connecting side with none of them set verifies the listener
/// against the system's trust roots, hostname included, and shows no certificate. A listening
/// side needs at least ``certificate`` and ``privateKey``.
///
/// ```swift
/// var tls = TLSSettings()
/// tls.trustRoots = "ca.pem"
/// let connection = try await LineConnection.connect(to: .tls(host: "10.0.0.2", port: 7001), tls: tls)
/// ```
public struct TLSSettings: Sendable, Hashable {
    /// The listener's certificate chain (PEM), `--tls-cert`.
    public var certificate: String?
    /// The listener's private key (PEM), `--tls-key`.
    public var privateKey: String?
    /// The CA certificates (PEM) a peer's certificate must chain to, `--tls-ca`; `nil` trusts the
    /// system's roots.
    public var trustRoots: String?
    /// The certificate a connecting side shows for mutual TLS, `--tls-client-cert`.
    public var clientCertificate: String?
    /// Its private key, `--tls-client-key`.
    public var clientPrivateKey: String?
    /// A listener refuses peers that show no certificate signed by ``trustRoots``,
    /// `--tls-require-client-cert`.
    public var requireClientCertificate = false

    public init() {}

    /// Whether a listener authenticates its peers by certificate (so it needs no shared key).
    public var authenticatesPeers: Bool { requireClientCertificate }

    /// The context a listener uses for every accepted connection.
    /// - Throws: ``RunnelError`` naming the missing or unreadable file and the flag that gives it.
    public func makeServerContext() throws(RunnelError) -> NIOSSLContext {
        guard let certificate, let privateKey else {
            throw RunnelError(
                .failedPrecondition,
                "listening on tls:// needs this side's certificate and key: pass --tls-cert and --tls-key (PEM files)")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try Self.certificates(certificate, flag: "--tls-cert").map { .certificate($0) },
            privateKey: .privateKey(try Self.key(privateKey, flag: "--tls-key")))
        if requireClientCertificate {
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = try trustRootsSource()
        }
        return try Self.context(configuration)
    }

    /// The context a connecting side uses: verification of the listener's certificate and name
    /// always on, and the client certificate when one is configured.
    /// - Throws: ``RunnelError`` naming the missing or unreadable file and the flag that gives it.
    public func makeClientContext() throws(RunnelError) -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .fullVerification
        configuration.trustRoots = try trustRootsSource()
        switch (clientCertificate, clientPrivateKey) {
        case let (certificate?, key?):
            configuration.certificateChain = try Self.certificates(certificate, flag: "--tls-client-cert").map { .certificate($0) }
            configuration.privateKey = .privateKey(try Self.key(key, flag: "--tls-client-key"))
        case (nil, nil):
            break
        default:
            throw RunnelError(.invalidArgument, "a client certificate needs both --tls-client-cert and --tls-client-key")
        }
        return try Self.context(configuration)
    }

    private func trustRootsSource() throws(RunnelError) -> NIOSSLTrustRoots {
        guard let trustRoots else { return .default }
        return .certificates(try Self.certificates(trustRoots, flag: "--tls-ca"))
    }

    private static func certificates(_ path: String, flag: String) throws(RunnelError) -> [NIOSSLCertificate] {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw RunnelError(.notFound, "cannot read \(flag) \(path)")
        }
        do {
            let certificates = try NIOSSLCertificate.fromPEMFile(path)
            guard !certificates.isEmpty else { throw NIOSSLError.failedToLoadCertificate }
            return certificates
        } catch {
            throw RunnelError(.invalidArgument, "\(flag) \(path) holds no PEM certificate (-----BEGIN CERTIFICATE-----)")
        }
    }

    private static func key(_ path: String, flag: String) throws(RunnelError) -> NIOSSLPrivateKey {
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw RunnelError(.notFound, "cannot read \(flag) \(path)")
        }
        do {
            return try NIOSSLPrivateKey(file: path, format: .pem)
        } catch {
            throw RunnelError(.invalidArgument, "\(flag) \(path) holds no unencrypted PEM private key")
        }
    }

    private static func context(_ configuration: TLSConfiguration) throws(RunnelError) -> NIOSSLContext {
        var configuration = configuration
        configuration.minimumTLSVersion = .tlsv12  // PROTOCOL.md §9.4
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw RunnelError(.invalidArgument, "cannot set up TLS: \(TLSFailure.reason(error))")
        }
    }
}
