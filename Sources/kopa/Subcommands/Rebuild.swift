import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa rebuild [PROJECTION]`: drops and replays projections.
    struct Rebuild: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "Drop and replay all projections, or the named ones.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var projections: ProjectionOptions

        @Argument(help: "Projections to rebuild (default: all).")
        var names: [String] = []

        func run(ledger: Ledger) throws {
            let clock = ContinuousClock.now
            let engine = try projections.engine(ledger)
            let summary = try engine.catchUp(rebuild: names.isEmpty ? nil : names)
            let fields: [(column: String, value: Cell)] = [
                ("projections", .text(summary.rebuilt.joined(separator: ","))), ("events", .integer(Int64(summary.appliedFromStart))), ("database", .text(engine.databasePath)),
            ]
            printSummary(fields, format: global.format) {
                let seconds = (ContinuousClock.now - clock).seconds
                return "rebuilt \(counted(summary.rebuilt.count, "projection")) from \(counted(summary.appliedFromStart, "event")) in \(String(format: "%.2f", seconds)) s into \(engine.databasePath)"
            }
        }
    }
}
