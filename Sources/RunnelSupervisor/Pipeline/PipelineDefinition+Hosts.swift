import RunnelProtocol
import RunnelTransport

/// Stages placed on several hosts.
///
/// ```toml
/// [hosts.a]
/// address = "10.0.0.1"          # where the other hosts reach it; also what it binds
/// [hosts.b]
/// address = "10.0.0.2"
/// bind = "0.0.0.0"              # optional: bind this instead of the address
///
/// [tls]                         # optional: links between hosts are tls:// instead of tcp://
/// cert = "host.pem"             # this host's certificate and key (a host may override them
/// key = "host.key"              #   with tls_cert / tls_key in its [hosts.NAME])
/// ca = "ca.pem"                 # the roots peers' certificates must chain to
/// client_cert = "client.pem"    # optional, for mutual TLS
/// client_key = "client.key"
/// require_client_cert = false
///
/// [[stage]]
/// name = "parse"
/// host = "b"
/// port = 7401                   # where it listens when its upstream is on another host
/// ```
///
/// Each host runs `runnel run FILE --host NAME`, which starts only that host's stages. A link
/// between stages on one host is a Unix socket, as on a single host; a link to a stage on
/// another host is `tcp://ADDRESS:PORT` (or `tls://`), its port `port` or else ``PipelineDefaults/firstPort`` (7400) plus the
/// stage's position (0-based). The source runs on the first stage's host.
extension PipelineDefinition {
    /// A machine stages run on.
    public struct Host: Sendable, Equatable {
        public var name: String
        /// The address other hosts connect to.
        public var address: String
        /// The address its listeners bind (default: ``address``).
        public var bind: String?
        public var tlsCertificate: String?
        public var tlsKey: String?
        public var line: Int
    }

    /// The `[tls]` section: paths as written (relative to the file).
    public struct TLSFiles: Sendable, Equatable {
        public var certificate: String?
        public var key: String?
        public var trustRoots: String?
        public var clientCertificate: String?
        public var clientKey: String?
        public var requireClientCertificate = false
    }

    /// One stage as one host runs it.
    public struct PlacedStage: Sendable, Equatable {
        public var stage: Stage
        /// Its position in the pipeline.
        public var index: Int
        /// Where it listens when its upstream is on another host, or its JetStream work queue;
        /// `nil`: a Unix socket the supervisor binds.
        public var listen: Endpoint?
        /// Where it sends when its downstream is on another host, or the next stage's JetStream
        /// work queue; `nil`: the next stage's Unix socket, or the supervisor (the last stage).
        public var remoteTo: Endpoint?
        /// Whether it is the pipeline's last stage.
        public var isLast: Bool
        /// Its peers on other hosts, for `runnel status`: `← fetch@a tcp://…`.
        public var peers: String?
    }

    /// Whether stages are placed on hosts.
    public var isMultiHost: Bool { !hosts.isEmpty }

    /// The port stage `index` listens on for a link from another host.
    public func port(ofStage index: Int) -> Int { stages[index].port ?? PipelineDefaults.firstPort + index }

    /// The stages `host` runs, with their links, and whether it runs the source.
    /// - Parameter host: a name in `[hosts]`; `nil` on a single host (every stage, linked by
    ///   Unix sockets).
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` for a host the file does not define, or
    ///   `--host` missing or given where it does not apply.
    public func placement(on host: String?) throws(RunnelError) -> (stages: [PlacedStage], runsSource: Bool) {
        guard isMultiHost else {
            if let host {
                throw RunnelError(.invalidArgument, "\(file) defines no [hosts], so --host \(host) does not apply; run it without --host")
            }
            let placed = stages.enumerated().map { index, stage in
                let isLast = index == stages.count - 1
                guard let nats = natsLinks else {
                    return PlacedStage(stage: stage, index: index, listen: nil, remoteTo: nil, isLast: isLast, peers: nil)
                }
                // JetStream links: the stage reads its own work queue and writes the next one's.
                let listen = Endpoint.nats(nats.endpoint(into: stage.name))
                let to = isLast ? nil : Endpoint.nats(nats.endpoint(into: stages[index + 1].name))
                let output = isLast ? "→ the supervisor" : "→ JetStream \(nats.prefix).\(stages[index + 1].name)"
                return PlacedStage(
                    stage: stage, index: index, listen: listen, remoteTo: to, isLast: isLast,
                    peers: "← JetStream \(nats.prefix).\(stage.name) \(output)")
            }
            return (placed, true)
        }
        let names = hosts.map(\.name).joined(separator: ", ")
        guard let host else {
            throw RunnelError(.invalidArgument, "\(file) places stages on hosts (\(names)): say which one this is with --host NAME")
        }
        guard hosts.contains(where: { $0.name == host }) else {
            throw RunnelError(.invalidArgument, "--host \(host): \(file) defines no such host (hosts: \(names))")
        }
        let hostOf = stages.map { $0.host ?? "" }
        var placed: [PlacedStage] = []
        for (index, stage) in stages.enumerated() where hostOf[index] == host {
            let upstreamHost = index == 0 ? hostOf[0] : hostOf[index - 1]
            var item = PlacedStage(stage: stage, index: index, listen: nil, remoteTo: nil, isLast: index == stages.count - 1)
            var peers: [String] = []
            if upstreamHost != host, let local = hosts.first(where: { $0.name == host }) {
                item.listen = endpoint(local.bind ?? local.address, port(ofStage: index))
                peers.append("← \(stages[index - 1].name)@\(upstreamHost) on \(item.listen!)")
            }
            if index + 1 < stages.count, hostOf[index + 1] != host, let remote = hosts.first(where: { $0.name == hostOf[index + 1] }) {
                item.remoteTo = endpoint(remote.address, port(ofStage: index + 1))
                peers.append("→ \(stages[index + 1].name)@\(remote.name) at \(item.remoteTo!)")
            }
            item.peers = peers.isEmpty ? nil : peers.joined(separator: "; ")
            placed.append(item)
        }
        return (placed, hostOf.first == host)
    }

    private func endpoint(_ address: String, _ port: Int) -> Endpoint {
        tls == nil ? .tcp(host: address, port: port) : .tls(host: address, port: port)
    }

    /// Reads `[hosts]`, `[tls]` and each stage's `host`, and checks they agree.
    mutating func readPlacement(_ root: PipelineTOML.Table, _ reader: inout PipelineReader) {
        if let table = reader.table("hosts", in: root) {
            for entry in table.entries {
                guard case let .table(host) = entry.value else {
                    reader.problem(
                        entry.line, "hosts.\(entry.key)", "expected a table, not \(entry.value.kind)",
                        fix: "write [hosts.\(entry.key)] with address = \"…\"")
                    continue
                }
                reader.only(Keys.host, in: host, table: "[hosts.\(entry.key)]")
                guard let address = reader.string("address", in: host), !address.isEmpty else {
                    if host["address"] == nil || host["address"] == .string("") {
                        reader.problem(
                            host.line, "address", "[hosts.\(entry.key)] needs address = \"IP or name\", where the other hosts reach it")
                    }
                    continue
                }
                hosts.append(
                    Host(
                        name: entry.key, address: address, bind: reader.string("bind", in: host),
                        tlsCertificate: reader.string("tls_cert", in: host), tlsKey: reader.string("tls_key", in: host),
                        line: host.line))
            }
        }
        if let table = reader.table("tls", in: root) {
            reader.only(Keys.tls, in: table, table: "[tls]")
            tls = TLSFiles(
                certificate: reader.string("cert", in: table), key: reader.string("key", in: table),
                trustRoots: reader.string("ca", in: table), clientCertificate: reader.string("client_cert", in: table),
                clientKey: reader.string("client_key", in: table),
                requireClientCertificate: reader.bool("require_client_cert", in: table) ?? false)
        }
        let names = hosts.map(\.name)
        for stage in stages {
            if let host = stage.host {
                if names.isEmpty {
                    reader.problem(
                        stage.hostLine ?? stage.line, "host", "stage \(stage.name) names host \"\(host)\" but there is no [hosts] section",
                        fix: "add [hosts.\(host)] with address = \"…\", or remove host")
                } else if !names.contains(host) {
                    let fix = PipelineProblem.suggestion(for: host, among: names).map { "did you mean \"\($0)\"?" }
                    reader.problem(
                        stage.hostLine ?? stage.line, "host",
                        "unknown host \"\(host)\" for stage \(stage.name) (hosts: \(names.joined(separator: ", ")))", fix: fix)
                }
            } else if !names.isEmpty {
                reader.problem(
                    stage.line, "host", "stage \(stage.name) needs host = \"…\" when [hosts] is defined (hosts: \(names.joined(separator: ", ")))")
            }
        }
        for (index, stage) in stages.enumerated() where index > 0 && stage.host != stages[index - 1].host && stage.replicas > 1 {
            reader.problem(
                stage.line, "replicas",
                "stage \(stage.name) listens for another host on one TCP port, so it runs 1 replica, not \(stage.replicas)")
        }
    }
}
