import GRDB
import Testing

@testable import StoreStage

/// The store's child rows are bound through SQLite's C API (``SQLiteRowInsert``), not GRDB's
/// arguments: the values must arrive as GRDB would have stored them (a NUL inside a text
/// excepted, which GRDB cuts the text at and this keeps), and a failing row must fail as GRDB's
/// `execute` fails, leaving the statement usable.
@Suite struct SQLiteRowInsertTests {
    @Test func valuesArriveAsGRDBStoresThem() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE direct (n INTEGER, s TEXT, o TEXT); CREATE TABLE grdb (n INTEGER, s TEXT, o TEXT)")
            let insert = try SQLiteRowInsert("INSERT INTO direct (n, s, o) VALUES (?, ?, ?)", in: db)
            let rows: [(Int, String, String?)] = [(1, "Đà Nẵng 😀", "x"), (Int.min, "", nil), (Int.max, "a\u{0}b", "")]
            for (n, s, o) in rows {
                try insert.run { row in
                    row.bind(n)
                    row.bind(s)
                    row.bind(o)
                }
                try db.execute(sql: "INSERT INTO grdb (n, s, o) VALUES (?, ?, ?)", arguments: [n, s, o])
            }
            // Byte for byte and type for type what GRDB's own binding stores, but that GRDB cuts a
            // text at its first NUL (it binds a C string) and this keeps it whole.
            let columns = "n, hex(s), hex(o), typeof(n), typeof(s), typeof(o)"
            let direct = try Row.fetchAll(db, sql: "SELECT \(columns) FROM direct ORDER BY rowid")
            let viaGRDB = try Row.fetchAll(db, sql: "SELECT \(columns) FROM grdb ORDER BY rowid")
            #expect(Array(direct.prefix(2)) == Array(viaGRDB.prefix(2)), "\(direct) against \(viaGRDB)")
            #expect(direct[2][1] as String == "610062")
            #expect(viaGRDB[2][1] as String == "61")
            #expect(direct.map { $0[4] as String } == ["text", "text", "text"], "empty text is text, not NULL")
            #expect(direct.map { $0[5] as String } == ["text", "null", "text"])
        }
    }

    @Test func aFailingRowThrowsGRDBsErrorAndTheStatementGoesOn() throws {
        let queue = try DatabaseQueue()
        try queue.write { db in
            try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY)")
            let insert = try SQLiteRowInsert("INSERT INTO t (k) VALUES (?)", in: db)
            try insert.run { $0.bind("a") }
            #expect {
                try insert.run { $0.bind("a") }
            } throws: { error in
                (error as? DatabaseError)?.resultCode == .SQLITE_CONSTRAINT
                    && (error as? DatabaseError)?.message?.contains("UNIQUE") == true
            }
            try insert.run { $0.bind("b") }
            #expect(try String.fetchAll(db, sql: "SELECT k FROM t ORDER BY k") == ["a", "b"])
            // GRDB still runs the statement it cached, with its own arguments.
            try db.cachedStatement(sql: "INSERT INTO t (k) VALUES (?)").execute(arguments: ["c"])
            #expect(try Int.fetchOne(db, sql: "SELECT count(*) FROM t") == 3)
        }
    }
}
