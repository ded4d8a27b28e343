import ArgumentParser
import RunnelProtocol
import RunnelTransport

/// The `--tls-*` flags of every command that links over `tls://`; they map onto ``TLSSettings``.
struct TLSOptions: ParsableArguments {
    @Option(name: .customLong("tls-cert"), help: ArgumentHelp("This side's certificate chain (PEM), to listen on tls://.", valueName: "path"))
    var certificate: String?

    @Option(name: .customLong("tls-key"), help: ArgumentHelp("The private key (PEM) of --tls-cert.", valueName: "path"))
    var key: String?

    @Option(
        name: .customLong("tls-ca"),
        help: ArgumentHelp("CA certificates (PEM) the peer's certificate must chain to (default: the system's roots).", valueName: "path"))
    var trustRoots: String?

    @Option(
        name: .customLong("tls-client-cert"),
        help: ArgumentHelp("A certificate (PEM) to show when connecting to tls:// (mutual TLS).", valueName: "path"))
    var clientCertificate: String?

    @Option(name: .customLong("tls-client-key"), help: ArgumentHelp("The private key (PEM) of --tls-client-cert.", valueName: "path"))
    var clientKey: String?

    @Flag(
        name: .customLong("tls-require-client-cert"),
        help: "Listening on tls://: refuse peers without a client certificate signed by --tls-ca.")
    var requireClientCertificate = false

    var settings: TLSSettings {
        var settings = TLSSettings()
        settings.certificate = certificate
        settings.privateKey = key
        settings.trustRoots = trustRoots
        settings.clientCertificate = clientCertificate
        settings.clientPrivateKey = clientKey
        settings.requireClientCertificate = requireClientCertificate
        return settings
    }

    /// The settings, checked up front for the endpoints that use them, so a missing file is
    /// reported at start and not at each reconnect.
    func settings(listen: Endpoint, to: Endpoint) throws(RunnelError) -> TLSSettings {
        let settings = self.settings
        if case .tls = listen { _ = try settings.makeServerContext() }
        if case .tls = to { _ = try settings.makeClientContext() }
        return settings
    }
}
