import GRDB
import GRDBSQLite

/// One row of a report's result, read in place from SQLite: valid only during the call that hands
/// it over (the next step overwrites it). Writing a large report from it needs no String per cell
/// and no array per row, which were most of the time of printing one.
public struct ReportRow {
    let raw: RawStatement
    /// The number of columns.
    public let count: Int

    /// What a column holds (a BLOB reads as the text `<blob>`).
    public enum Kind: Sendable, Equatable {
        /// SQL NULL, an integer, a floating-point number, text.
        case null, integer, real, text
    }

    init(_ raw: RawStatement, count: Int) {
        self.raw = raw
        self.count = count
    }

    /// What column `i` holds.
    public func kind(_ i: Int) -> Kind {
        switch sqlite3_column_type(raw.handle, Int32(i)) {
        case SQLITE_INTEGER: .integer
        case SQLITE_FLOAT: .real
        case SQLITE_NULL: .null
        default: .text
        }
    }

    /// Column `i` as an integer.
    public func integer(_ i: Int) -> Int64 { raw.int64(Int32(i)) }

    /// Column `i` as a real number.
    public func real(_ i: Int) -> Double { sqlite3_column_double(raw.handle, Int32(i)) }

    /// Column `i`'s text as UTF-8, valid during `body`: in place when it is valid UTF-8, else
    /// repaired as `String(decoding:as:)` repairs it, so both readings give the same text.
    public func withText<T>(_ i: Int, _ body: (UnsafeBufferPointer<UInt8>) throws -> T) rethrows -> T {
        if sqlite3_column_type(raw.handle, Int32(i)) == SQLITE_BLOB {
            var blob = Self.blob
            return try blob.withUTF8(body)
        }
        let bytes = raw.bytes(Int32(i))
        if CanonicalLine.isValidUTF8(bytes) { return try body(bytes) }
        var repaired = String(decoding: bytes, as: UTF8.self)
        return try repaired.withUTF8(body)
    }

    private static let blob = "<blob>"

    /// Column `i` as a value.
    public func value(_ i: Int) -> ReportValue {
        switch kind(i) {
        case .null: .null
        case .integer: .integer(integer(i))
        case .real: .real(real(i))
        case .text: .text(withText(i) { String(decoding: $0, as: UTF8.self) })
        }
    }

    /// Every column as a value, in column order.
    public var values: [ReportValue] { (0..<count).map(value) }
}
