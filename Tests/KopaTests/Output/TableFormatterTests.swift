import Ledger
import Testing

@testable import kopa

/// How tables and Markdown align their columns.
@Suite("table formatter")
struct TableFormatterTests {
    /// A number, or an exact decimal such as money (one point, a minus sign only in front), aligns
    /// right; a date, a version such as 1.2.3 or a dotted date is text and aligns left like the rest.
    @Test(arguments: [
        (Cell.integer(3), true), (.integer(-12), true), (.text("57005.82"), true), (.text("-1234.56"), true),
        (.text("42"), true), (.text(".5"), true),
        (.text("2021-05-10"), false), (.text("1-2"), false), (.text("1.2.3"), false), (.text("10.05.2021"), false),
        (.text("-"), false), (.text("."), false), (.text(""), false), (.text("12.50 EUR"), false), (.null, false),
    ])
    func numbersAndMoneyAreNumericDatesAreNot(cell: Cell, numeric: Bool) {
        #expect(cell.isNumeric == numeric)
    }

    /// A column of dates stays left-aligned beside a right-aligned column of amounts, in a table
    /// and in Markdown's alignment row.
    @Test func aDateColumnAlignsLeftAndAnAmountColumnRight() {
        let table = TableFormatter(columns: ["date", "amount"], rows: [[.text("2021-05-10"), .text("1.50")], [.text("2021-5"), .text("1200.00")]])
        #expect(table.markdownHeader()[1] == "|---|---:|")
        #expect(table.table().split(separator: "\n").map(String.init) == [
            "date         amount",
            "----------  -------",
            "2021-05-10     1.50",
            "2021-5      1200.00",
        ])
    }
}
