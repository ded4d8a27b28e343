import Foundation
import GRDB
import RunnelProtocol

#if canImport(Glibc)
import Glibc
#endif

extension RunnelError {
    /// Turns an error from SQLite into a status a stage can act on and a message that names the
    /// database file and says what to do.
    ///
    /// Busy and locked databases are `UNAVAILABLE` (retryable: the runner tries again); a file
    /// that is not a database or is corrupt is `DATA_LOSS`; a full disk `RESOURCE_EXHAUSTED`;
    /// a read-only file or directory (or file system) `PERMISSION_DENIED`; a missing directory
    /// `FAILED_PRECONDITION`.
    /// Whether the directory of `path` exists but may not be written (permissions, a read-only
    /// file system), leaving `errno` saying why; a missing directory is not this.
    static func directoryRefusesWrites(of path: String) -> Bool {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        return access(directory, F_OK) == 0 && access(directory, W_OK) != 0
    }

    static func sqlite(_ error: any Error, path: String, doing operation: String) -> RunnelError {
        if let error = error as? RunnelError { return error }
        guard let db = error as? DatabaseError else {
            return RunnelError(.internal, "\(operation) in \(path) failed: \(error)")
        }
        let detail = db.message ?? "\(db.resultCode)"
        switch db.resultCode.primaryResultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            return RunnelError(
                .unavailable,
                "\(path) is locked by another connection (\(detail)) while \(operation), for longer than the busy timeout. Try again later; if it persists, find the other process writing to it (fuser \(path)) or raise --busy-timeout",
                cause: db)
        case .SQLITE_NOTADB, .SQLITE_CORRUPT:
            return RunnelError(
                .dataLoss,
                "\(path) is not a SQLite database or is corrupt (\(detail)) while \(operation). Move it aside (mv \(path) \(path).corrupt) to start a new store, or restore it from a backup; `sqlite3 \(path) .recover` may save its rows",
                cause: db)
        case .SQLITE_FULL:
            return RunnelError(.resourceExhausted, "the disk holding \(path) is full (\(detail)) while \(operation); free some space", cause: db)
        case .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            return RunnelError(
                .permissionDenied,
                "\(path) cannot be written (\(detail)) while \(operation); check the permissions of the file, its -wal and -shm files and its directory",
                cause: db)
        case .SQLITE_CANTOPEN where directoryRefusesWrites(of: path):
            return RunnelError(
                .permissionDenied,
                "cannot open \(path) (\(detail)): its directory cannot be written (\(String(cString: strerror(errno)))); check its permissions and whether its file system is mounted read-only",
                cause: db)
        case .SQLITE_CANTOPEN:
            return RunnelError(
                .failedPrecondition,
                "cannot open \(path) (\(detail)); check that its directory exists and that you may write there",
                cause: db)
        case .SQLITE_TOOBIG, .SQLITE_CONSTRAINT, .SQLITE_MISMATCH, .SQLITE_RANGE:
            return RunnelError(.invalidArgument, "\(path) refused the data while \(operation): \(detail)", cause: db)
        case .SQLITE_IOERR, .SQLITE_PROTOCOL:
            return RunnelError(.unavailable, "I/O error on \(path) (\(detail)) while \(operation); check the disk and the file system it is on", cause: db)
        default:
            return RunnelError(.internal, "\(operation) in \(path) failed: \(detail)", cause: db)
        }
    }
}
