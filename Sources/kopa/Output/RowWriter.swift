import Foundation
import Ledger

/// Writes rows as they come in the formats that need no look at later rows: CSV (RFC 4180, CRLF),
/// a JSON array of objects (keys in column order) and NDJSON. ``TableFormatter`` writes these
/// formats through it too, so a streamed report and a held one print the same bytes.
///
/// Output goes through an ``OutputBuffer``, so a report of a million rows needs no more memory
/// than a report of ten.
struct RowWriter: RowOutput {
    /// Whether `format` can be written a row at a time (a table and Markdown size their columns
    /// from every row first).
    static func streams(_ format: OutputFormat) -> Bool {
        format == .csv || format == .json || format == .ndjson
    }

    let format: OutputFormat
    let columns: [String]
    /// Each column's JSON key, quoted once rather than per row.
    private let keys: [[UInt8]]
    /// NDJSON's members in RFC 8785 key order: each key once, quoted, with the column whose value
    /// it takes (the last of that name, as in a dictionary).
    private let members: [(key: [UInt8], column: Int)]
    private var output: OutputBuffer
    private var count = 0

    /// Starts the output (CSV's header line, JSON's opening bracket).
    /// - Precondition: `RowWriter.streams(format)`.
    init(format: OutputFormat, columns: [String], output: OutputBuffer) {
        precondition(Self.streams(format), "\(format) is not written row by row")
        self.format = format
        self.columns = columns
        self.output = output
        func quoted(_ column: String) -> [UInt8] {
            var key: [UInt8] = []
            CanonicalJSON.writeString(column, into: &key)
            return key
        }
        keys = columns.map(quoted)
        members = CanonicalJSON.sortedKeys(Set(columns)).map { (quoted($0), columns.lastIndex(of: $0)!) }
        switch format {
        case .csv: Self.appendCSVLine(columns.map(Cell.text), to: &self.output.bytes)
        case .json: write("[")
        default: break
        }
    }

    /// A writer to standard output.
    static func standardOutput(format: OutputFormat, columns: [String]) -> RowWriter {
        RowWriter(format: format, columns: columns, output: .standardOutput())
    }

    private mutating func write(_ text: String) {
        output.append(text)
        output.flushIfFull()
    }

    /// Writes one row, straight into the buffer: building a String per row and joining them was
    /// most of the time of printing a large report.
    mutating func add(_ row: [Cell]) { addRow(row) }

    /// Writes one report row from SQLite's buffers, with the same bytes as its cells would give.
    mutating func add(_ row: ReportRow) { addRow(row) }

    private mutating func addRow(_ row: some WritableRow) {
        switch format {
        case .csv:
            Self.appendCSVLine(row, to: &output.bytes)
        case .json:
            output.bytes.append(contentsOf: (count == 0 ? "\n  {" : ",\n  {").utf8)
            for (i, key) in keys.enumerated() {
                if i > 0 { output.bytes.append(contentsOf: ", ".utf8) }
                output.bytes.append(contentsOf: key)
                output.bytes.append(contentsOf: ": ".utf8)
                row.appendJSON(i, to: &output.bytes)
            }
            output.bytes.append(UInt8(ascii: "}"))
        default:
            output.bytes.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { output.bytes.append(UInt8(ascii: ",")) }
                output.bytes.append(contentsOf: member.key)
                output.bytes.append(UInt8(ascii: ":"))
                row.appendJSON(member.column, to: &output.bytes)
            }
            output.bytes.append(contentsOf: "}\n".utf8)
        }
        count += 1
        output.flushIfFull()
    }

    /// A CSV line (RFC 4180, CRLF).
    private static func appendCSVLine(_ row: some WritableRow, to out: inout [UInt8]) {
        for i in 0..<row.cellCount {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            row.appendCSV(i, to: &out)
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// Ends the output (JSON's closing bracket) and hands over what is left. An empty NDJSON
    /// result is no bytes at all, as in `kopa log`: an empty line is not a JSON value, and a
    /// reader of NDJSON would fail on it.
    mutating func finish() {
        if format == .json { write(count == 0 ? "]\n" : "\n]\n") }
        output.finish()
    }
}

/// A row ``RowWriter`` writes: its cells, one at a time, as CSV fields or JSON values.
protocol WritableRow {
    /// The number of cells.
    var cellCount: Int { get }
    /// Appends cell `i` as a CSV field (RFC 4180).
    func appendCSV(_ i: Int, to out: inout [UInt8])
    /// Appends cell `i` as a JSON value: text as a string, a number as a number, NULL as null.
    func appendJSON(_ i: Int, to out: inout [UInt8])
}

extension Cell {
    /// The cell as a CSV field: NULL as nothing.
    func appendCSV(to out: inout [UInt8]) {
        switch self {
        case .null: break
        case .integer(let n): CanonicalJSON.writeInteger(n, into: &out)
        case .text(var s): s.withUTF8 { CSV.appendField($0, to: &out) }
        case .json(let v): var s = CanonicalJSON.string(v); s.withUTF8 { CSV.appendField($0, to: &out) }
        }
    }

    /// The cell as a JSON value.
    func appendJSON(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .integer(let n): CanonicalJSON.writeInteger(n, into: &out)
        case .text(let s): CanonicalJSON.writeString(s, into: &out)
        case .json(let v): out.append(contentsOf: CanonicalJSON.string(v).utf8)
        }
    }
}

extension Array: WritableRow where Element == Cell {
    var cellCount: Int { count }
    func appendCSV(_ i: Int, to out: inout [UInt8]) { self[i].appendCSV(to: &out) }
    func appendJSON(_ i: Int, to out: inout [UInt8]) { self[i].appendJSON(to: &out) }
}

/// Read in place: a report's text goes from SQLite's buffer to the output, and a real number is
/// written as the text its cell holds (``ReportValue/cell``).
extension ReportRow: WritableRow {
    var cellCount: Int { count }

    func appendCSV(_ i: Int, to out: inout [UInt8]) {
        switch kind(i) {
        case .null: break
        case .integer: CanonicalJSON.writeInteger(integer(i), into: &out)
        case .real: var s = String(real(i)); s.withUTF8 { CSV.appendField($0, to: &out) }
        case .text: withText(i) { CSV.appendField($0, to: &out) }
        }
    }

    func appendJSON(_ i: Int, to out: inout [UInt8]) {
        switch kind(i) {
        case .null: out.append(contentsOf: "null".utf8)
        case .integer: CanonicalJSON.writeInteger(integer(i), into: &out)
        case .real: CanonicalJSON.writeString(String(real(i)), into: &out)
        case .text: withText(i) { CanonicalJSON.writeString(bytes: $0, into: &out) }
        }
    }
}

/// CSV as RFC 4180 writes it.
enum CSV {
    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. Bytes,
    /// not Characters: a CR LF pair is one Character, equal to neither "\r" nor "\n", and looking
    /// at Characters was ~40 % of writing a large report.
    static func appendField(_ bytes: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) {
        guard bytes.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) else {
            return out.append(contentsOf: bytes)
        }
        out.append(0x22)
        for byte in bytes {
            out.append(byte)
            if byte == 0x22 { out.append(0x22) }
        }
        out.append(0x22)
    }
}
