import GRDB
import GRDBSQLite

/// A prepared statement run once per row, its values bound through SQLite's C API.
///
/// GRDB's `execute(arguments:)` boxes each value into `StatementArguments` and checks them
/// against the statement before binding: for the ~140 child rows of a real page's article
/// (links, entities, keywords) that was a fifth of the store's instructions, more than SQLite's
/// own work for those rows. The statement is GRDB's cached one, reset before and after each row,
/// so GRDB finds it as it left it; an error is GRDB's `DatabaseError`, as from `execute`.
///
/// ```swift
/// let link = try SQLiteRowInsert("INSERT INTO links (article_id, url) VALUES (?, ?)", in: db)
/// for url in urls { try link.run { $0.bind(id); $0.bind(url) } }
/// ```
struct SQLiteRowInsert {
    private let statement: Statement
    private let db: Database

    init(_ sql: String, in db: Database) throws {
        statement = try db.cachedStatement(sql: sql)
        self.db = db
    }

    /// Binds one row's values in the order of the statement's parameters and steps it once.
    func run(_ bind: (inout Values) -> Void) throws {
        let handle = statement.sqliteStatement
        sqlite3_reset(handle)
        var values = Values(handle: handle)
        bind(&values)
        assert(values.next - 1 == sqlite3_bind_parameter_count(handle), "bound \(values.next - 1) values for \(statement.sql)")
        // A value SQLite refuses (SQLITE_TOOBIG) fails the row before it is stepped.
        let code = values.failure == SQLITE_OK ? sqlite3_step(handle) : values.failure
        sqlite3_reset(handle)
        guard code == SQLITE_DONE else {
            let message = db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
        }
    }

    /// The values of one row, bound in order.
    struct Values {
        fileprivate let handle: SQLiteStatement
        fileprivate var next: CInt = 1
        /// The first code other than SQLITE_OK a bind returned.
        fileprivate var failure = SQLITE_OK

        /// SQLite copies what it is given (`SQLITE_TRANSIENT`), so the text need not outlive the call.
        private static let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

        private mutating func bound(_ code: CInt) {
            if failure == SQLITE_OK { failure = code }
            next += 1
        }

        mutating func bind(_ value: Int64) {
            bound(sqlite3_bind_int64(handle, next, value))
        }

        mutating func bind(_ value: Int) {
            bind(Int64(value))
        }

        mutating func bind(_ text: String) {
            var text = text
            let code = text.withUTF8 { utf8 -> CInt in
                guard let base = utf8.baseAddress, !utf8.isEmpty else {
                    return sqlite3_bind_text(handle, next, "", 0, Self.transient)  // empty text, not NULL
                }
                let chars = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
                return sqlite3_bind_text64(handle, next, chars, sqlite3_uint64(utf8.count), Self.transient, UInt8(SQLITE_UTF8))
            }
            bound(code)
        }

        mutating func bind(_ text: String?) {
            guard let text else { return bound(sqlite3_bind_null(handle, next)) }
            bind(text)
        }
    }
}
