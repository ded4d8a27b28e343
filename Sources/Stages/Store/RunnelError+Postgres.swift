import Foundation
import PostgresNIO
import RunnelProtocol
import RunnelTransport

extension RunnelError {
    /// Turns an error from PostgreSQL or postgres-nio into a status a stage can act on, with a
    /// message that names the server (without its password) and says what to do.
    ///
    /// An unreachable server, a dropped connection, a deadlock or a serialization failure are
    /// `UNAVAILABLE` (retryable: a stage's runner tries again); a rejected login `UNAUTHENTICATED`; missing privileges
    /// `PERMISSION_DENIED`; a missing database `NOT_FOUND`; a full disk `RESOURCE_EXHAUSTED`;
    /// data the server refuses `INVALID_ARGUMENT` (the stage then stores the batch's items one
    /// by one, so only the bad one fails).
    ///
    /// The messages state what happened and what to check, never what happens next: inside a
    /// stage the runner retries and says so, while `runnel search` and `runnel export` stop.
    static func postgres(_ error: any Error, url: String, doing operation: String) -> RunnelError {
        if let error = error as? RunnelError { return error }
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError
        {
            return postgres(inner, url: url, doing: operation)
        }
        guard let psql = error as? PSQLError else {
            if error is ChannelError || error is IOError || error is NIOConnectionError
                || "\(type(of: error))".contains("ConnectionPoolError")
            {
                return unreachable(url, operation, detail: reason(error))
            }
            return RunnelError(.internal, "\(operation) on \(url) failed: \(error)")
        }
        switch psql.code {
        case .server:
            return server(psql, url: url, doing: operation)
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .poolClosed:
            return unreachable(url, operation, detail: psql.underlying.map(reason) ?? "\(psql.code)")
        case .sslUnsupported:
            return RunnelError(
                .failedPrecondition,
                "\(url) does not accept TLS connections while \(operation); add ?sslmode=prefer or ?sslmode=disable to the URL",
                cause: psql)
        case .unsupportedAuthMechanism, .authMechanismRequiresPassword, .saslError:
            return RunnelError(
                .unauthenticated,
                "\(url) did not accept the login (\(psql.code)) while \(operation); put the password in the URL (postgres://user:password@host/db) or in PGPASSWORD",
                cause: psql)
        case .queryCancelled:
            return RunnelError(.unavailable, "a query on \(url) was cancelled while \(operation)", cause: psql)
        case .tooManyParameters:
            return RunnelError(.invalidArgument, "\(operation) on \(url) needed too many parameters", cause: psql)
        default:
            return RunnelError(.internal, "\(operation) on \(url) failed: \(psql.code)", cause: psql)
        }
    }

    static func unreachable(_ url: String, _ operation: String, detail: String) -> RunnelError {
        RunnelError(
            .unavailable,
            "cannot reach the PostgreSQL server \(url) while \(operation) (\(detail)); is it running and listening there? Check with \(readinessCheck(url))")
    }

    /// A network error as a person reads it (`Connection refused`), not as Swift prints it.
    static func reason(_ error: any Error) -> String { LineConnection.describe(error) }

    /// `pg_isready` with the host and port of `url`, to paste into a shell.
    static func readinessCheck(_ url: String) -> String {
        guard let components = URLComponents(string: url), let host = components.host, !host.isEmpty else {
            return "pg_isready -h HOST -p PORT"
        }
        return "pg_isready -h \(host) -p \(components.port ?? 5432)"
    }

    /// An error the server sent, by SQLSTATE class.
    static func server(_ error: PSQLError, url: String, doing operation: String) -> RunnelError {
        let state = error.serverInfo?[.sqlState] ?? ""
        var detail = error.serverInfo?[.message] ?? "\(error.code)"
        if let more = error.serverInfo?[.detail] { detail += "; \(more)" }
        switch state {
        case "28P01", "28000":
            return RunnelError(
                .unauthenticated,
                "\(url) rejected the login (\(detail)) while \(operation); check the user and password in the URL (or PGPASSWORD) and the server's pg_hba.conf",
                cause: error)
        case "3D000":
            return RunnelError(
                .notFound,
                "\(url): \(detail) while \(operation); create it first (createdb -h HOST -p PORT -U USER DBNAME) or fix the name in the URL",
                cause: error)
        case "42P01", "42703":
            return RunnelError(
                .failedPrecondition,
                "\(url) is not a Runnel store or has an older schema (\(detail)) while \(operation); store articles there first (runnel store --db URL)",
                cause: error)
        case "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "57014":
            return RunnelError(.unavailable, "\(url) is busy (\(detail)) while \(operation)", cause: error)
        case "42501":
            return RunnelError(
                .permissionDenied,
                "\(url) refused access (\(detail)) while \(operation); grant the user the rights it needs (GRANT ALL ON SCHEMA public TO USER)",
                cause: error)
        case "53100":
            return RunnelError(.resourceExhausted, "the disk of \(url) is full (\(detail)) while \(operation); free some space", cause: error)
        case "XX001", "XX002":
            return RunnelError(
                .dataLoss, "\(url) reports corrupt data (\(detail)) while \(operation); restore the database from a backup",
                cause: error)
        default:
            break
        }
        switch state.prefix(2) {
        case "08":
            return unreachable(url, operation, detail: detail)
        case "22", "23", "54":
            return RunnelError(.invalidArgument, "\(url) refused the data while \(operation): \(detail)", cause: error)
        case "53":
            return RunnelError(.resourceExhausted, "\(url) ran out of resources (\(detail)) while \(operation)", cause: error)
        default:
            return RunnelError(.internal, "\(operation) on \(url) failed: \(detail) (SQLSTATE \(state))", cause: error)
        }
    }

    /// Whether a transaction that failed with this error may succeed if run again at once.
    static func isTransient(_ error: any Error) -> Bool {
        if let transaction = error as? PostgresTransactionError,
            let inner = transaction.beginError ?? transaction.closureError ?? transaction.commitError
        {
            return isTransient(inner)
        }
        guard let psql = error as? PSQLError, psql.code == .server else { return false }
        return ["40001", "40P01"].contains(psql.serverInfo?[.sqlState] ?? "")
    }
}
