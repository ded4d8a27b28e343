import Foundation
import RunnelProtocol

extension Supervisor {
    /// The shared key file, for every process of a pipeline on several hosts (the source
    /// included): a stage proves its key on all its links, Unix sockets too, so its local peers
    /// must hold it as well.
    nonisolated func keyArguments() -> [String] {
        guard definition.isMultiHost, let keyFile = definition.keyFile else { return [] }
        return ["--key-file", definition.resolve(keyFile)]
    }

    /// The `[tls]` flags a stage with a link to another host gets, paths made absolute (a host's
    /// own `tls_cert`/`tls_key` win over `[tls]`'s).
    nonisolated func tlsArguments() -> [String] {
        var arguments: [String] = []
        guard let tls = definition.tls else { return arguments }
        let local = definition.hosts.first { $0.name == host }
        let pairs: [(String, String?)] = [
            ("--tls-cert", local?.tlsCertificate ?? tls.certificate), ("--tls-key", local?.tlsKey ?? tls.key),
            ("--tls-ca", tls.trustRoots), ("--tls-client-cert", tls.clientCertificate), ("--tls-client-key", tls.clientKey),
        ]
        for case let (flag, path?) in pairs { arguments += [flag, definition.resolve(path)] }
        if tls.requireClientCertificate { arguments.append("--tls-require-client-cert") }
        return arguments
    }

    /// Links between hosts must prove who is on the other end: a shared key (`key_file` or
    /// `RUNNEL_KEY`) or required client certificates. Refused before anything starts, rather
    /// than by every stage at every restart.
    nonisolated func checkRemoteAuthentication() throws(RunnelError) {
        guard definition.isMultiHost else { return }
        let hasKey = definition.keyFile != nil || !(ProcessInfo.processInfo.environment["RUNNEL_KEY"] ?? "").isEmpty
        let hasClientCertificates = definition.tls?.requireClientCertificate == true
        guard hasKey || hasClientCertificates else {
            throw RunnelError(
                .failedPrecondition,
                "\(definition.file): stages on different hosts link over the network and need a shared key: set key_file = \"…\" in [pipeline] or RUNNEL_KEY in the environment (or require_client_cert = true in [tls])")
        }
        if let keyFile = definition.keyFile, !FileManager.default.isReadableFile(atPath: definition.resolve(keyFile)) {
            throw RunnelError(.notFound, "\(definition.file): cannot read key_file \(definition.resolve(keyFile))")
        }
    }
}
