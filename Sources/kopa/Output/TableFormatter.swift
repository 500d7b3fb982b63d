import Foundation
import Ledger

/// A value in a printed table: kept typed so JSON stays typed and tables right-align numbers.
enum Cell: Sendable, Equatable {
    case null
    case integer(Int64)
    case text(String)
    case json(JSONValue)

    var plain: String {
        switch self {
        case .null: ""
        case .integer(let n): String(n)
        case .text(let s): s
        case .json(let v): CanonicalJSON.string(v)
        }
    }

    var jsonValue: JSONValue {
        switch self {
        case .null: .null
        case .integer(let n): .integer(n)
        case .text(let s): .string(s)
        case .json(let v): v
        }
    }

    /// Numbers (and exact decimal strings such as money) align right in tables.
    var isNumeric: Bool {
        switch self {
        case .integer: return true
        case .text(let s):
            guard !s.isEmpty else { return false }
            var digits = 0, dots = 0
            for (i, c) in s.utf8.enumerated() {
                if c >= 0x30, c <= 0x39 { digits += 1 } else if c == 0x2E { dots += 1 } else if !(i == 0 && c == 0x2D) { return false }
            }
            return digits > 0 && dots <= 1
        default: return false
        }
    }
}

/// Rows with named columns, printed as table, JSON, NDJSON, CSV (RFC 4180) or Markdown.
struct TableFormatter {
    var columns: [String]
    var rows: [[Cell]]
    /// Widest a table may be (a 100-column terminal).
    var width = 100

    /// Prints the rows to stdout; CSV keeps its CRLF line ends and gets no extra line.
    func print(_ format: OutputFormat) {
        switch format {
        case .table: Console.out(table())
        case .md: Console.out(markdown())
        default:
            var writer = RowWriter.standardOutput(format: format, columns: columns)
            for row in rows { writer.add(row) }
            writer.finish()
        }
    }

    func markdown() -> String {
        func escape(_ s: String) -> String { s.replacingOccurrences(of: "|", with: "\\|").replacingOccurrences(of: "\n", with: " ") }
        var lines = ["| " + columns.map(escape).joined(separator: " | ") + " |"]
        let numeric = numericColumns()
        lines.append("|" + columns.indices.map { numeric[$0] ? "---:" : "---" }.joined(separator: "|") + "|")
        for row in rows { lines.append("| " + row.map { escape($0.plain) }.joined(separator: " | ") + " |") }
        return lines.joined(separator: "\n")
    }

    func numericColumns() -> [Bool] {
        columns.indices.map { c in
            let cells = rows.map { $0[c] }.filter { $0 != .null && $0.plain != "" }
            return !cells.isEmpty && cells.allSatisfy(\.isNumeric)
        }
    }

    /// Rows as blocks of `column  value` lines, for results too wide for a terminal.
    func vertical(_ texts: [[String]]) -> String {
        let labelWidth = columns.map(\.count).max() ?? 0
        var blocks: [String] = []
        for row in texts {
            var lines: [String] = []
            for (column, value) in zip(columns, row) where !value.isEmpty {
                var text = value
                if labelWidth + 2 + text.count > width { text = String(text.prefix(max(width - labelWidth - 3, 10))) + "…" }
                lines.append(column.padding(toLength: labelWidth, withPad: " ", startingAt: 0) + "  " + text)
            }
            blocks.append(lines.joined(separator: "\n"))
        }
        return blocks.isEmpty ? "(no rows)" : blocks.joined(separator: "\n\n")
    }

    /// A plain-text table fitted to `width`: the widest text columns are cut with '…'.
    func table() -> String {
        if columns.isEmpty { return "" }
        let texts = rows.map { $0.map { $0.plain.replacingOccurrences(of: "\n", with: " ") } }
        var widths = columns.map(\.count)
        for row in texts { for (i, t) in row.enumerated() { widths[i] = max(widths[i], t.count) } }
        let numeric = numericColumns()
        let separators = 2 * (columns.count - 1)
        // Too many columns to read when cut to fit: print each row as a block of "column  value" lines.
        // The first column names the row (an event type, a project): it is never cut.
        let floor = widths.indices.reduce(0) { $0 + (numeric[$1] || $1 == 0 ? widths[$1] : min(widths[$1], 12)) }
        if floor + separators > width { return vertical(texts) }
        while widths.reduce(0, +) + separators > width {
            guard let widest = widths.indices.filter({ !numeric[$0] && $0 > 0 }).max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 else { break }
            widths[widest] -= 1
        }
        func fit(_ s: String, _ w: Int, right: Bool) -> String {
            var s = s
            if s.count > w { s = String(s.prefix(max(w - 1, 0))) + "…" }
            let pad = String(repeating: " ", count: w - s.count)
            return right ? pad + s : s + pad
        }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { fit($1, widths[$0], right: numeric[$0]) }.joined(separator: "  ")
                .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        var lines = [line(columns), widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
        for row in texts { lines.append(line(row)) }
        if rows.isEmpty { lines.append("(no rows)") }
        return lines.joined(separator: "\n")
    }
}

/// Prints events in a format; `ndjson` prints exactly the export records.
func printRecords(_ records: [EventRecord], format: OutputFormat, title: String? = nil) throws {
    switch format {
    case .ndjson:
        for record in records { Console.out(record.exportLine) }
    case .json:
        Console.out("[" + records.map { "\n  " + $0.exportLine }.joined(separator: ",") + (records.isEmpty ? "]" : "\n]"))
    case .csv, .md:
        eventTable(records, full: true).print(format)
    case .table:
        if let title, records.count == 1, let record = records.first {
            Console.out("\(title): seq \(record.seq) \(record.type) \(record.stream) v\(record.streamVersion)")
            Console.out("  id \(record.id)  occurred \(record.occurredAt)  recorded \(record.recordedAt) by \(record.recordedBy)")
            Console.out("  hash \(record.hash)")
        } else {
            eventTable(records, full: false).print(.table)
        }
    }
}

/// Events as table rows: a short form for terminals, every field for CSV and Markdown.
func eventTable(_ records: [EventRecord], full: Bool) -> TableFormatter {
    if full {
        let columns = ["seq", "id", "type", "version", "stream", "stream_version", "occurred_at", "recorded_at", "recorded_by", "data", "meta", "prev", "hash"]
        let rows: [[Cell]] = records.map {
            [.integer($0.seq), .text($0.id), .text($0.type), .integer($0.version), .text($0.stream), .integer($0.streamVersion),
             .text($0.occurredAt), .text($0.recordedAt), .text($0.recordedBy), .text($0.dataJSON), .text($0.metaJSON), .text($0.prev), .text($0.hash)]
        }
        return TableFormatter(columns: columns, rows: rows)
    }
    let rows: [[Cell]] = records.map {
        [.integer($0.seq), .text($0.occurredAt), .text($0.type), .text($0.stream), .text($0.recordedBy), .text(String($0.recordedAt.prefix(19)))]
    }
    return TableFormatter(columns: ["seq", "occurred_at", "type", "stream", "recorded_by", "recorded_at"], rows: rows)
}
