import Foundation
import Ledger

/// The demo's overview: the overview and councils reports.
func printOverview(_ ledger: Ledger, format: OutputFormat) throws {
    let engine = try ProjectionEngine(ledger: ledger)
    for name in ["overview", "councils"] {
        let result = try engine.report(name)
        Console.out(name == "overview" ? "Projects (kopa report overview):" : "Resident councils (kopa report councils):")
        TableFormatter(columns: result.columns, rows: result.rows.map { $0.map(\.cell) }).print(format)
        Console.out("")
    }
}
