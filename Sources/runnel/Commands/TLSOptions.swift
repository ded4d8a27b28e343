import ArgumentParser
import RunnelProtocol
import RunnelTransport

// The `--tls-*` flags, split by who uses them, so that each command shows only its own: a
// listener shows a certificate, a connecting side checks it and may show one of its own, and
// both sides trust the same CA file. They map onto ``TLSSettings``.

/// `--tls-ca`: what the peer's certificate must chain to.
struct TLSTrustOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-ca"),
        help: .value(
            "CA certificates (PEM) the peer's certificate must chain to.", example: "ca.pem", valueName: "path"))
    var trustRoots: String?

    func apply(to settings: inout TLSSettings) { settings.trustRoots = trustRoots }
}

/// The listening side's certificate, and whether it demands one from its peers.
struct TLSListenerOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: .value("This side's certificate chain (PEM), to listen on tls://.", example: "host.pem", valueName: "path"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: .value("The private key (PEM) of --tls-cert.", example: "host.key", valueName: "path"))
    var key: String?

    @Flag(
        name: .customLong("tls-require-client-cert"),
        help: "Listening on tls://: refuse peers without a client certificate signed by --tls-ca.")
    var requireClientCertificate = false

    func apply(to settings: inout TLSSettings) {
        settings.certificate = certificate
        settings.privateKey = key
        settings.requireClientCertificate = requireClientCertificate
    }
}

/// The certificate a connecting side shows (mutual TLS).
struct TLSClientOptions: ParsableArguments {
    @Option(
        name: .customLong("tls-client-cert"),
        help: .value("A certificate (PEM) to show when connecting to tls:// (mutual TLS).", example: "client.pem", valueName: "path"))
    var clientCertificate: String?

    @Option(name: .customLong("tls-client-key"), help: .value("The private key (PEM) of --tls-client-cert.", example: "client.key", valueName: "path"))
    var clientKey: String?

    func apply(to settings: inout TLSSettings) {
        settings.clientCertificate = clientCertificate
        settings.clientPrivateKey = clientKey
    }
}

extension TLSSettings {
    /// The settings the flags of one command give: the ones it has, the rest left as they are.
    init(trust: TLSTrustOptions, listener: TLSListenerOptions? = nil, client: TLSClientOptions? = nil) {
        self.init()
        trust.apply(to: &self)
        listener?.apply(to: &self)
        client?.apply(to: &self)
    }

    /// The settings, checked up front for the endpoints that use them, so a missing file is
    /// reported at start and not at each reconnect.
    func checked(listen: Endpoint, to: Endpoint) throws(RunnelError) -> TLSSettings {
        if case .tls = listen { _ = try makeServerContext() }
        if case .tls = to { _ = try makeClientContext() }
        return self
    }
}
