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

    /// Prints the rows to stdout, through the writer of the format (the same bytes as a report
    /// streamed in that format); CSV keeps its CRLF line ends and gets no extra line.
    func print(_ format: OutputFormat) {
        var writer = standardOutput(format: format, columns: columns)
        for row in rows { writer.add(row) }
        writer.finish()
    }

    func markdown() -> String {
        (markdownHeader() + rows.map(markdownLine)).joined(separator: "\n")
    }

    /// The header and alignment lines of a Markdown table (numbers right-aligned).
    func markdownHeader() -> [String] {
        let numeric = numericColumns()
        return [
            "| " + columns.map(Self.markdownEscape).joined(separator: " | ") + " |",
            "|" + columns.indices.map { numeric[$0] ? "---:" : "---" }.joined(separator: "|") + "|",
        ]
    }

    /// A cell's text for Markdown: on one line, with `|` and `\` escaped, so that a row keeps its
    /// cells and a cell its text (a value `A\|B` would otherwise end its cell after the backslash).
    /// Emphasis and other inline Markdown in a value are left as they were typed.
    static func markdownEscape(_ s: String) -> String {
        let line = TerminalText.oneLine(s)
        // Most cells have neither: checked by bytes first.
        guard line.utf8.contains(where: { $0 == UInt8(ascii: "|") || $0 == UInt8(ascii: "\\") }) else { return line }
        // Scalar by scalar: Foundation's replacing skips a `|` that a combining accent joins.
        var out = String.UnicodeScalarView()
        for scalar in line.unicodeScalars {
            if scalar == "|" || scalar == "\\" { out.append("\\") }
            out.append(scalar)
        }
        return String(out)
    }

    func markdownLine(_ row: [Cell]) -> String {
        "| " + row.map { Self.markdownEscape($0.plain) }.joined(separator: " | ") + " |"
    }

    func numericColumns() -> [Bool] {
        columns.indices.map { c in
            let cells = rows.map { $0[c] }.filter { $0 != .null && $0.plain != "" }
            return !cells.isEmpty && cells.allSatisfy(\.isNumeric)
        }
    }

    /// How a table prints: each column's width and alignment, or row by row as blocks of
    /// `column  value` lines when the columns cannot fit.
    struct Layout {
        var widths: [Int]
        var numeric: [Bool]
        var vertical: Bool
        var labelWidth: Int
        var width: Int
        /// The widest value of the numeric columns (headers aside): in blocks, numbers are
        /// right-aligned to it, so the figures of a block and of every block line up.
        var numberWidth = 0
    }

    /// The layout fitted to `width` from the rows at hand: the widest text columns are cut with '…'.
    /// Widths are terminal columns (see ``TerminalText``).
    func layout() -> Layout {
        var widths = columns.map(TerminalText.columns)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], TerminalText.columns(Self.text(cell))) } }
        let numeric = numericColumns()
        let separators = 2 * (columns.count - 1)
        // Too many columns to read when cut to fit: print each row as a block of "column  value" lines.
        // The first column names the row (an event type, a project): it is never cut.
        let floor = widths.indices.reduce(0) { $0 + (numeric[$1] || $1 == 0 ? widths[$1] : min(widths[$1], 12)) }
        let vertical = floor + separators > width
        if !vertical {
            while widths.reduce(0, +) + separators > width {
                guard let widest = widths.indices.filter({ !numeric[$0] && $0 > 0 }).max(by: { widths[$0] < widths[$1] }), widths[widest] > 8 else { break }
                widths[widest] -= 1
            }
        }
        var numberWidth = 0
        for row in rows { for (i, cell) in row.enumerated() where numeric[i] { numberWidth = max(numberWidth, cell.plain.count) } }
        return Layout(widths: widths, numeric: numeric, vertical: vertical, labelWidth: columns.map(TerminalText.columns).max() ?? 0, width: width, numberWidth: numberWidth)
    }

    /// A cell's text on one line (line breaks, tabs and other control characters as spaces).
    static func text(_ cell: Cell) -> String {
        TerminalText.oneLine(cell.plain)
    }

    /// The column names and the rule under them (nothing for a vertical layout).
    func header(_ layout: Layout) -> [String] {
        guard !layout.vertical else { return [] }
        return [Self.line(columns, layout, isHeader: true), layout.widths.map { String(repeating: "-", count: $0) }.joined(separator: "  ")]
    }

    /// A row as a table line, or as a block of `column  value` lines (vertical layout).
    ///
    /// A number is never cut: wider than its column (a row after the ones the layout was
    /// measured on), it pushes the rest of its line to the right.
    func lines(_ row: [Cell], _ layout: Layout) -> String {
        if layout.vertical {
            var lines: [String] = []
            for (i, (column, cell)) in zip(columns, row).enumerated() {
                var text = Self.text(cell)
                guard !text.isEmpty else { continue }
                if layout.numeric[i], cell.isNumeric, text.count < layout.numberWidth {
                    text = String(repeating: " ", count: layout.numberWidth - text.count) + text
                }
                if layout.labelWidth + 2 + TerminalText.columns(text) > layout.width {
                    text = TerminalText.prefix(text, columns: max(layout.width - layout.labelWidth - 3, 10)) + "…"
                }
                lines.append(column + TerminalText.padding(column, to: layout.labelWidth) + "  " + text)
            }
            return lines.joined(separator: "\n")
        }
        return Self.line(row.map(Self.text), layout, isHeader: false, numbers: row.map(\.isNumeric))
    }

    private static func line(_ cells: [String], _ layout: Layout, isHeader: Bool, numbers: [Bool] = []) -> String {
        func fit(_ s: String, _ w: Int, right: Bool, keep: Bool) -> String {
            var s = s
            if TerminalText.columns(s) > w, !keep { s = TerminalText.prefix(s, columns: w - 1) + "…" }
            let pad = TerminalText.padding(s, to: w)
            return right ? pad + s : s + pad
        }
        var line = cells.enumerated().map { i, text in
            fit(text, layout.widths[i], right: layout.numeric[i], keep: !isHeader && layout.numeric[i] && numbers[i])
        }.joined(separator: "  ")
        while line.last?.isWhitespace == true { line.removeLast() }
        return line
    }

    /// A plain-text table fitted to `width`: the widest text columns are cut with '…'.
    func table() -> String {
        if columns.isEmpty { return "" }
        let layout = layout()
        if layout.vertical { return rows.isEmpty ? "(no rows)" : rows.map { self.lines($0, layout) }.joined(separator: "\n\n") }
        var lines = header(layout)
        for row in rows { lines.append(self.lines(row, layout)) }
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
