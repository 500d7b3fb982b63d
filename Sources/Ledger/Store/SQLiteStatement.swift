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

/// The columns of the event row a ``RawStatement`` is on (in ``SQLiteEventStore/columns`` order),
/// read once, and their RFC 8785 record written straight from SQLite's buffers: the same bytes as
/// ``EventRecord/writeCanonical(into:includingHash:)`` without decoding a String. Verify hashes the
/// record without its hash, export writes it with its hash. Valid until the statement steps again.
struct EventColumns {
    let seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>
    let data: UnsafeBufferPointer<UInt8>, meta: UnsafeBufferPointer<UInt8>, id: UnsafeBufferPointer<UInt8>
    let occurredAt: UnsafeBufferPointer<UInt8>, recordedAt: UnsafeBufferPointer<UInt8>, recordedBy: UnsafeBufferPointer<UInt8>
    let stream: UnsafeBufferPointer<UInt8>, type: UnsafeBufferPointer<UInt8>
    let streamVersion: Int64, version: Int64

    /// The columns of the row `s` is on; `seq`, `prev` and `hash` as the caller read them.
    init(_ s: RawStatement, seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) {
        self.seq = seq
        self.prev = prev
        self.hash = hash
        data = s.bytes(9)
        meta = s.bytes(10)
        id = s.bytes(1)
        occurredAt = s.bytes(6)
        recordedAt = s.bytes(7)
        recordedBy = s.bytes(8)
        stream = s.bytes(4)
        type = s.bytes(2)
        streamVersion = s.int64(5)
        version = s.int64(3)
    }

    /// At most this many bytes are written by ``write(into:includingHash:)``: a string grows at
    /// most sixfold (\u00XX) plus its quotes; keys and integers fit in 256 bytes.
    var maxCanonicalBytes: Int {
        let strings = hash.count + id.count + occurredAt.count + prev.count + recordedAt.count + recordedBy.count + stream.count + type.count
        return data.count + meta.count + 6 * strings + 256
    }

    /// Writes the record, with its `hash` member or without it (the bytes that are hashed).
    func write(into out: inout ByteCursor, includingHash: Bool) {
        out.write(#"{"data":"#)
        out.write(data)
        if includingHash {
            out.write(#","hash":"#)
            out.writeString(hash)
        }
        out.write(#","id":"#)
        out.writeString(id)
        out.write(#","meta":"#)
        out.write(meta)
        out.write(#","occurred_at":"#)
        out.writeString(occurredAt)
        out.write(#","prev":"#)
        out.writeString(prev)
        out.write(#","recorded_at":"#)
        out.writeString(recordedAt)
        out.write(#","recorded_by":"#)
        out.writeString(recordedBy)
        out.write(#","seq":"#)
        out.writeInteger(seq)
        out.write(#","stream":"#)
        out.writeString(stream)
        out.write(#","stream_version":"#)
        out.writeInteger(streamVersion)
        out.write(#","type":"#)
        out.writeString(type)
        out.write(#","version":"#)
        out.writeInteger(version)
        out.write(#"}"#)
    }
}

extension RawStatement {
    /// Appends the export line (the RFC 8785 record with `hash`, and a newline) of the event row
    /// the statement is on to `part`, with each column read once (`seq`, `prev` and `hash` by the
    /// caller, who checks the chain with them).
    func writeExportLine(into part: inout LZ4FrameWriter.Part, seq: Int64, prev: UnsafeBufferPointer<UInt8>, hash: UnsafeBufferPointer<UInt8>) {
        let columns = EventColumns(self, seq: seq, prev: prev, hash: hash)
        part.append(upTo: columns.maxCanonicalBytes + 1) { out in
            columns.write(into: &out, includingHash: true)
            out.write(0x0A)
        }
    }
}
