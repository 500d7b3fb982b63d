import Foundation
import Ledger

/// Writes rows as they come in the formats that need no look at later rows: CSV (RFC 4180, CRLF),
/// a JSON array of objects (keys in column order) and NDJSON. ``TableFormatter`` writes these
/// formats through it too, so a streamed report and a held one print the same bytes.
///
/// Output is gathered in a buffer and handed to `flush` every 64 KiB, so a report of a million rows
/// needs no more memory than a report of ten.
struct RowWriter {
    /// Whether `format` can be written a row at a time (a table and Markdown size their columns
    /// from every row first).
    static func streams(_ format: OutputFormat) -> Bool {
        format == .csv || format == .json || format == .ndjson
    }

    let format: OutputFormat
    let columns: [String]
    /// Each column's JSON key, quoted once rather than per row.
    private let keys: [String]
    private var buffer: [UInt8] = []
    private var count = 0
    private let flush: ([UInt8]) -> Void

    /// Starts the output (CSV's header line, JSON's opening bracket).
    /// - Precondition: `RowWriter.streams(format)`.
    init(format: OutputFormat, columns: [String], flush: @escaping ([UInt8]) -> Void) {
        precondition(Self.streams(format), "\(format) is not written row by row")
        self.format = format
        self.columns = columns
        self.flush = flush
        keys = columns.map { column in
            var key: [UInt8] = []
            CanonicalJSON.writeString(column, into: &key)
            return String(decoding: key, as: UTF8.self)
        }
        buffer.reserveCapacity(Self.flushAt + 4096)
        switch format {
        case .csv: write(columns.map(Self.csvField).joined(separator: ",") + "\r\n")
        case .json: write("[")
        default: break
        }
    }

    /// A writer to standard output.
    static func standardOutput(format: OutputFormat, columns: [String]) -> RowWriter {
        RowWriter(format: format, columns: columns) { bytes in FileHandle.standardOutput.write(Data(bytes)) }
    }

    private static let flushAt = 64 << 10

    private mutating func write(_ text: String) {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.flushAt {
            flush(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }

    /// RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. Bytes,
    /// not Characters: a CR LF pair is one Character, equal to neither "\r" nor "\n", and looking
    /// at Characters was ~40 % of writing a large report.
    static func csvField(_ s: String) -> String {
        if s.utf8.contains(where: { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }) {
            return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return s
    }

    /// Writes one row.
    mutating func add(_ row: [Cell]) {
        switch format {
        case .csv:
            write(row.map { Self.csvField($0.plain) }.joined(separator: ",") + "\r\n")
        case .json:
            var line = count == 0 ? "\n  {" : ",\n  {"
            for (i, (key, cell)) in zip(keys, row).enumerated() {
                line += (i == 0 ? "" : ", ") + key + ": " + CanonicalJSON.string(cell.jsonValue)
            }
            write(line + "}")
        default:
            var members: [String: JSONValue] = [:]
            for (column, cell) in zip(columns, row) { members[column] = cell.jsonValue }
            write(CanonicalJSON.string(.object(members)) + "\n")
        }
        count += 1
    }

    /// Ends the output (JSON's closing bracket; an empty NDJSON result is one empty line) and
    /// hands over what is left.
    mutating func finish() {
        switch format {
        case .json: write(count == 0 ? "]\n" : "\n]\n")
        case .ndjson where count == 0: write("\n")
        default: break
        }
        if !buffer.isEmpty { flush(buffer) }
        buffer.removeAll()
    }
}
