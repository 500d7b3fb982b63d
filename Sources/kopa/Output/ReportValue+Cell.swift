import Ledger

extension ReportValue {
    /// The value as a cell to print (a real as Swift's shortest text that reads back the same).
    var cell: Cell {
        switch self {
        case .null: .null
        case .integer(let n): .integer(n)
        case .real(let d): .text(String(d))
        case .text(let s): .text(s)
        }
    }
}
