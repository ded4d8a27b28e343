import RunnelProtocol

/// Where a stage reads or writes: a URI, as on the command line and in pipeline files.
///
/// | URI | meaning |
/// |---|---|
/// | `-` | stdin or stdout (plain JSON lines unless `--zstd`; no acks) |
/// | `unix:/run/runnel/parse.sock` | a Unix socket (zstd both ways, acks) |
/// | `tcp://10.0.0.5:7000` | TCP (zstd both ways, acks, shared-key authentication) |
/// | `tls://10.0.0.5:7000` | TLS over TCP: as `tcp://`, the listener's certificate verified (``TLSSettings``) |
/// | `file:capture.jsonl.zst` | a log: read it as input, or append to it as output |
/// | `fd:3` | an inherited listening socket (a supervisor binds it and hands it down) |
/// | `nats://10.0.0.7:4222/pages` | NATS JetStream: a work queue shared by replicas (``NatsEndpoint``) |
public enum Endpoint: Sendable, Hashable, CustomStringConvertible {
    case stdio
    case unix(path: String)
    case tcp(host: String, port: Int)
    case tls(host: String, port: Int)
    case file(path: String)
    case descriptor(Int32)
    case nats(NatsEndpoint)

    /// Parses an endpoint URI.
    /// - Throws: ``RunnelError`` with `INVALID_ARGUMENT` and the forms that are accepted.
    public init(parsing text: String) throws(RunnelError) {
        if text == "-" {
            self = .stdio
        } else if text.hasPrefix("unix:") {
            var path = String(text.dropFirst(5))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw Self.invalid(text, "a Unix socket needs a path: unix:/run/x.sock") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp://") || text.hasPrefix("tls://") {
            let isTLS = text.hasPrefix("tls://")
            let rest = text.dropFirst(6)
            let hostPort: (String, String)
            if rest.hasPrefix("[") {
                // An IPv6 address: `[` host `]` `:` port, nothing else (a host with `[` in it is no host).
                guard let close = rest.firstIndex(of: "]"), rest[close...].dropFirst().first == ":" else {
                    throw Self.invalid(text, "an IPv6 address goes in brackets before the port: \(isTLS ? "tls" : "tcp")://[::1]:7400")
                }
                hostPort = (String(rest[rest.index(after: rest.startIndex)..<close]), String(rest[close...].dropFirst(2)))
            } else if let colon = rest.lastIndex(of: ":") {
                hostPort = (String(rest[..<colon]), String(rest[rest.index(after: colon)...]))
            } else {
                throw Self.invalid(text, "a TCP endpoint needs a port: \(isTLS ? "tls" : "tcp")://host:port")
            }
            guard let port = Int(hostPort.1.split(separator: "/").first ?? ""), (0...65535).contains(port) else {
                throw Self.invalid(text, "the port must be a number within 0…65535")
            }
            let host = hostPort.0.isEmpty ? "0.0.0.0" : hostPort.0
            self = isTLS ? .tls(host: host, port: port) : .tcp(host: host, port: port)
        } else if text.hasPrefix("file:") {
            var path = String(text.dropFirst(5))
            if path.hasPrefix("//") { path.removeFirst(2) }
            guard !path.isEmpty else { throw Self.invalid(text, "a file endpoint needs a path: file:capture.jsonl.zst") }
            self = .file(path: path)
        } else if text.hasPrefix("fd:"), let fd = Int32(text.dropFirst(3)), fd >= 0 {
            self = .descriptor(fd)
        } else if text.hasPrefix("nats://") {
            self = .nats(try NatsEndpoint(parsing: text))
        } else {
            throw Self.invalid(text, "expected -, unix:/path.sock, tcp://host:port, tls://host:port, nats://host:port/subject, file:path or fd:N")
        }
    }

    /// Whether this endpoint carries acks (a socket, JetStream), or is a plain stream (stdio, a file).
    public var isSocket: Bool {
        switch self {
        case .unix, .tcp, .tls, .descriptor, .nats: true
        case .stdio, .file: false
        }
    }

    public var description: String {
        switch self {
        case .stdio: "-"
        case let .unix(path): "unix:\(path)"
        case let .tcp(host, port): host.contains(":") ? "tcp://[\(host)]:\(port)" : "tcp://\(host):\(port)"
        case let .tls(host, port): host.contains(":") ? "tls://[\(host)]:\(port)" : "tls://\(host):\(port)"
        case let .file(path): "file:\(path)"
        case let .descriptor(fd): "fd:\(fd)"
        case let .nats(endpoint): endpoint.description
        }
    }

    private static func invalid(_ text: String, _ hint: String) -> RunnelError {
        RunnelError(.invalidArgument, "endpoint \"\(hidingCredentials(text))\": \(hint)")
    }

    /// An endpoint as typed, with what its URL's user part holds hidden, for error texts and
    /// logs: `nats://user:***@host/x`, `nats://***@host/x` (a token).
    public static func hidingCredentials(_ text: String) -> String {
        guard let scheme = text.range(of: "://") else { return text }
        let authority = text[scheme.upperBound...].prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard let at = authority.lastIndex(of: "@") else { return text }
        let user = authority[..<at]
        let shown = user.firstIndex(of: ":").map { user[..<$0] + ":***" } ?? "***"
        return text[..<scheme.upperBound] + shown + text[at...]
    }
}
