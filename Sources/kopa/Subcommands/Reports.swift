import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa reports`: lists reports.
    struct Reports: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "List the reports with their descriptions.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var projections: ProjectionOptions

        func run(ledger: Ledger) throws {
            let set = try projections.engine(ledger).set
            let rows: [[Cell]] = set.reports.keys.sorted().map { [.text($0), .text(set.reports[$0]!.description ?? "")] }
            TableFormatter(columns: ["report", "description"], rows: rows).print(global.format)
        }
    }
}
