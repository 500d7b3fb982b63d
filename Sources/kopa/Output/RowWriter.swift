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
    mutating func add(_ row: [Cell]) {
        switch format {
        case .csv:
            Self.appendCSVLine(row, to: &output.bytes)
        case .json:
            output.bytes.append(contentsOf: (count == 0 ? "\n  {" : ",\n  {").utf8)
            for (i, (key, cell)) in zip(keys, row).enumerated() {
                if i > 0 { output.bytes.append(contentsOf: ", ".utf8) }
                output.bytes.append(contentsOf: key)
                output.bytes.append(contentsOf: ": ".utf8)
                Self.appendJSON(cell, to: &output.bytes)
            }
            output.bytes.append(UInt8(ascii: "}"))
        default:
            output.bytes.append(UInt8(ascii: "{"))
            for (i, member) in members.enumerated() {
                if i > 0 { output.bytes.append(UInt8(ascii: ",")) }
                output.bytes.append(contentsOf: member.key)
                output.bytes.append(UInt8(ascii: ":"))
                Self.appendJSON(row[member.column], to: &output.bytes)
            }
            output.bytes.append(contentsOf: "}\n".utf8)
        }
        count += 1
        output.flushIfFull()
    }

    /// A CSV line (RFC 4180, CRLF).
    private static func appendCSVLine(_ row: [Cell], to out: inout [UInt8]) {
        for (i, cell) in row.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            switch cell {
            case .null: break
            case .integer(let n): CanonicalJSON.writeInteger(n, into: &out)
            case .text(let s): appendCSVField(s, to: &out)
            case .json(let v): appendCSVField(CanonicalJSON.string(v), to: &out)
            }
        }
        out.append(contentsOf: [0x0D, 0x0A])
    }

    /// A cell as a JSON value: text as a string, a number as a number, NULL as null.
    private static func appendJSON(_ cell: Cell, to out: inout [UInt8]) {
        switch cell {
        case .null: out.append(contentsOf: "null".utf8)
        case .integer(let n): CanonicalJSON.writeInteger(n, into: &out)
        case .text(let s): CanonicalJSON.writeString(s, into: &out)
        case .json(let v): out.append(contentsOf: CanonicalJSON.string(v).utf8)
        }
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. Bytes,
    /// not Characters: a CR LF pair is one Character, equal to neither "\r" nor "\n", and looking
    /// at Characters was ~40 % of writing a large report.
    private static func appendCSVField(_ s: String, to out: inout [UInt8]) {
        var s = s
        s.withUTF8 { bytes in
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

    /// Ends the output (JSON's closing bracket; an empty NDJSON result is one empty line) and
    /// hands over what is left.
    mutating func finish() {
        switch format {
        case .json: write(count == 0 ? "]\n" : "\n]\n")
        case .ndjson where count == 0: write("\n")
        default: break
        }
        output.finish()
    }
}
