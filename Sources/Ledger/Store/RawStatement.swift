import GRDB
import GRDBSQLite

/// A thin wrapper over a prepared sqlite3 statement for the hot paths (append, scan, verify),
/// where GRDB's `StatementArguments` would allocate per row. It lives only inside a GRDB
/// `read`/`write` closure, like the `Database` it came from.
struct RawStatement {
    let handle: OpaquePointer
    let db: Database
    /// Keeps the GRDB statement, and so the sqlite3 statement, alive.
    private let statement: Statement

    init(_ statement: Statement, in db: Database) {
        self.handle = statement.sqliteStatement
        self.db = db
        self.statement = statement
    }

    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    /// Throws SQLite's error when a bind fails (a parameter out of range, a value over SQLite's limits).
    func check(_ code: Int32, _ index: Int32) throws {
        guard code != SQLITE_OK else { return }
        let sql = sqlite3_sql(handle).map { String(cString: $0) } ?? ""
        throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "binding parameter \(index) failed: \(String(cString: sqlite3_errstr(code)))", sql: sql)
    }

    func bind(_ index: Int32, _ text: String) throws {
        var copy = text
        let code = copy.withUTF8 { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), Self.transient)
            }
        }
        try check(code, index)
    }

    private static let staticText = unsafeBitCast(0, to: sqlite3_destructor_type.self)

    /// Binds text that SQLite does not copy: `bytes` must stay valid until the statement is reset
    /// (or stepped for the last time).
    func bindStatic(_ index: Int32, _ bytes: UnsafeBufferPointer<UInt8>) throws {
        let code = bytes.withMemoryRebound(to: CChar.self) { chars in
            sqlite3_bind_text(handle, index, chars.baseAddress ?? UnsafePointer(bitPattern: 1), Int32(chars.count), Self.staticText)
        }
        try check(code, index)
    }

    func bind(_ index: Int32, _ value: Int64) throws {
        try check(sqlite3_bind_int64(handle, index, value), index)
    }

    func bind(_ index: Int32, _ text: String?) throws {
        if let text { try bind(index, text) } else { try check(sqlite3_bind_null(handle, index), index) }
    }

    func bind(_ index: Int32, _ value: Int64?) throws {
        if let value { try bind(index, value) } else { try check(sqlite3_bind_null(handle, index), index) }
    }

    /// Steps once: true when a row is available, false when done.
    func step() throws -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = String(cString: sqlite3_errmsg(db.sqliteConnection))
            let sql = sqlite3_sql(handle).map { String(cString: $0) } ?? ""
            throw DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: sql)
        }
    }

    func int64(_ column: Int32) -> Int64 { sqlite3_column_int64(handle, column) }

    func text(_ column: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The column's bytes, valid until the next step or reset.
    ///
    /// Through the column's value: one call into the statement (its column lookup and error
    /// check) instead of two, `sqlite3_column_text` and `sqlite3_column_bytes`; a verify reads
    /// eleven texts per event. The value is read on this thread before the next step, which is
    /// what SQLite asks of an unprotected value.
    func bytes(_ column: Int32) -> UnsafeBufferPointer<UInt8> {
        guard let value = sqlite3_column_value(handle, column), let pointer = sqlite3_value_text(value) else {
            return UnsafeBufferPointer(start: nil, count: 0)
        }
        return UnsafeBufferPointer(start: pointer, count: Int(sqlite3_value_bytes(value)))
    }
}
