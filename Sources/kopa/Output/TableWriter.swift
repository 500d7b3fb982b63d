import Foundation
import Ledger

/// Prints a table or Markdown as the rows come, in bounded memory.
///
/// Both formats look at rows to lay themselves out (column widths, which columns are numbers).
/// The first ``sampleSize`` rows are held and measured; a result that ends within them prints
/// exactly as ``TableFormatter`` prints it. Later rows take the layout of the first ones: a text
/// longer than its column is cut with '…' as in any table; a number is never cut, and a wider one
/// widens its column from its row on. So `kopa report audit-trail` on a million events prints in
/// 5 s and 34 MiB, where holding the rows took 28 s and a gigabyte.
struct TableWriter: RowOutput {
    /// Rows measured before the layout is fixed.
    static let sampleSize = 1000

    let format: OutputFormat
    let columns: [String]
    private var sample: [[Cell]] = []
    /// Set once the sample is full.
    private var layout: TableFormatter.Layout?
    /// Lays out and formats the lines (its rows: the sample, while it is measured).
    private var formatter: TableFormatter
    private var printed = 0
    private var output: OutputBuffer

    /// - Precondition: `format` is `.table` or `.md`.
    init(format: OutputFormat, columns: [String], output: OutputBuffer) {
        precondition(format == .table || format == .md, "\(format) is written by RowWriter")
        self.format = format
        self.columns = columns
        self.output = output
        formatter = TableFormatter(columns: columns, rows: [])
    }

    /// A writer to standard output.
    static func standardOutput(format: OutputFormat, columns: [String]) -> TableWriter {
        TableWriter(format: format, columns: columns, output: .standardOutput())
    }

    /// Adds one row.
    mutating func add(_ row: [Cell]) {
        if let layout { return print(row, layout) }
        sample.append(row)
        guard sample.count >= Self.sampleSize else { return }
        // Enough rows to lay the table out: print them, and every later row as it comes.
        formatter.rows = sample
        let layout = formatter.layout()
        self.layout = layout
        for line in format == .md ? formatter.markdownHeader() : formatter.header(layout) { write(line) }
        formatter.rows = []
        let held = sample
        sample = []
        for row in held { print(row, layout) }
    }

    private mutating func print(_ row: [Cell], _ layout: TableFormatter.Layout) {
        if format == .md {
            write(formatter.markdownLine(row))
        } else {
            if layout.vertical, printed > 0 { write("") }  // a blank line between blocks
            var layout = layout
            if !layout.vertical {
                // A number wider than its column widens it from this row on: numbers are never cut.
                for (i, cell) in row.enumerated() where layout.numeric[i] && cell.isNumeric {
                    layout.widths[i] = max(layout.widths[i], cell.plain.utf8.count)
                }
                self.layout = layout
            }
            write(formatter.lines(row, layout))
        }
        printed += 1
    }

    private mutating func write(_ line: String) {
        output.append(line)
        output.bytes.append(0x0A)
        output.flushIfFull()
    }

    /// Prints what is held (a result shorter than the sample, exactly as ``TableFormatter``
    /// prints it) and hands over the rest of the output.
    mutating func finish() {
        if layout == nil {
            let held = TableFormatter(columns: columns, rows: sample)
            write(format == .md ? held.markdown() : held.table())
        }
        output.finish()
    }
}

/// Where rows are printed as they come: ``RowWriter`` or ``TableWriter``, by format.
protocol RowOutput {
    /// Prints (or holds, while a table measures its first rows) one row.
    mutating func add(_ row: [Cell])
    /// Prints (or holds) one row of a report, read in place.
    mutating func add(_ row: ReportRow)
    /// Prints what is left.
    mutating func finish()
}

extension RowOutput {
    /// A report row as cells (a table holds its first rows to lay them out).
    mutating func add(_ row: ReportRow) { add(row.values.map(\.cell)) }
}

/// The writer of `format` to standard output.
func standardOutput(format: OutputFormat, columns: [String]) -> any RowOutput {
    RowWriter.streams(format)
        ? RowWriter.standardOutput(format: format, columns: columns)
        : TableWriter.standardOutput(format: format, columns: columns)
}
