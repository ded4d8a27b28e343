import Foundation
import RunnelProtocol

/// How to reach a PostgreSQL store: a libpq-style URL, `postgres://user:password@host:port/dbname`.
///
/// The same `--db` flag takes a file path (SQLite) or such a URL; ``isURL(_:)`` tells them apart.
/// Missing parts default as `psql` does: host `localhost`, port 5432, user `$PGUSER` or `$USER`,
/// password `$PGPASSWORD`, database the user's name. `?sslmode=disable|prefer|require|verify-full`
/// chooses TLS (default `prefer`: TLS when the server offers it). Messages name the URL without its
/// password (``displayURL``).
///
/// ```swift
/// let configuration = try PostgresStoreConfiguration(url: "postgres://runnel@db1:5432/news")
/// configuration.displayURL  // "postgres://runnel@db1:5432/news"
/// ```
public struct PostgresStoreConfiguration: Sendable, Hashable {
    /// Whether the store may write (the stage) or only read (search, export).
    public typealias Mode = SQLiteStoreConfiguration.Mode

    /// TLS as libpq's `sslmode` names it.
    public enum TLSMode: String, Sendable, Hashable {
        case disable, prefer, require
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    public var mode: Mode
    /// How long a connection attempt may take before it counts as unreachable (`UNAVAILABLE`).
    public var connectTimeout: Duration
    /// How long one upsert, search or page may take, waiting for a pooled connection included,
    /// before it fails with `UNAVAILABLE` (retried).
    public var operationTimeout: Duration
    /// The pool's size: one store process rarely needs more than its batches in flight.
    public var maximumConnections: Int

    /// Whether `db` names a PostgreSQL server (`postgres://` or `postgresql://`) rather than a file.
    public static func isURL(_ db: String) -> Bool {
        let lower = db.lowercased()
        return lower.hasPrefix("postgres://") || lower.hasPrefix("postgresql://")
    }

    /// Parses a URL.
    /// - Throws: ``RunnelError`` `INVALID_ARGUMENT` for a URL it cannot read, naming what is wrong.
    public init(
        url: String, mode: Mode = .readWrite, connectTimeout: Duration = .seconds(5),
        operationTimeout: Duration = .seconds(30), maximumConnections: Int = 4
    ) throws(RunnelError) {
        let environment = ProcessInfo.processInfo.environment
        guard Self.isURL(url), let components = URLComponents(string: url) else {
            throw RunnelError(
                .invalidArgument,
                "\(Self.redacting(url)) is not a PostgreSQL URL; write postgres://user[:password]@host[:port]/dbname")
        }
        let host = components.percentEncodedHost?.removingPercentEncoding ?? ""
        self.host = host.isEmpty ? "localhost" : host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        port = components.port ?? 5432
        let user = components.percentEncodedUser?.removingPercentEncoding ?? ""
        username = user.isEmpty ? (environment["PGUSER"] ?? environment["USER"] ?? "postgres") : user
        password = components.percentEncodedPassword?.removingPercentEncoding ?? environment["PGPASSWORD"]
        let name = String(components.percentEncodedPath.drop(while: { $0 == "/" })).removingPercentEncoding ?? ""
        guard !name.contains("/") else {
            throw RunnelError(.invalidArgument, "\(Self.redacting(url)): the path must be one database name, as in postgres://host/news")
        }
        database = name.isEmpty ? username : name
        var tls = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value.flatMap(TLSMode.init(rawValue:)) else {
                    throw RunnelError(
                        .invalidArgument,
                        "\(Self.redacting(url)): sslmode=\(item.value ?? "") is not one of disable, prefer, require, verify-full")
                }
                tls = value
            default:
                throw RunnelError(.invalidArgument, "\(Self.redacting(url)): unknown parameter \(item.name); only sslmode is understood")
            }
        }
        self.tls = tls
        self.mode = mode
        self.connectTimeout = connectTimeout
        self.operationTimeout = operationTimeout
        self.maximumConnections = max(1, maximumConnections)
    }

    /// The URL without its password, for messages: `postgres://user@host:port/dbname`.
    public var displayURL: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return "postgres://\(username)@\(bracketed):\(port)/\(database)"
    }

    /// `url` with any password replaced by `***`, for messages about a URL that did not parse.
    /// The user part ends at the last `@`, so a password holding `@` is hidden whole.
    public static func redacting(_ url: String) -> String {
        guard let at = url.range(of: "@", options: .backwards), let scheme = url.range(of: "://"), scheme.upperBound < at.lowerBound else {
            return url
        }
        let userInfo = url[scheme.upperBound..<at.lowerBound]
        guard let colon = userInfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at.lowerBound...])
    }
}
