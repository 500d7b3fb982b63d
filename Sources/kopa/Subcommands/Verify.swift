import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa verify`: recomputes every hash and link.
    struct Verify: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute every hash and link of the ledger; exit 1 and name the first broken seq on failure.")

        @OptionGroup var global: GlobalOptions

        func run(ledger: Ledger) throws {
            let progress = Progress(label: "verify", total: try ledger.head().seq)
            let report = try ledger.verify { progress.update($0) }
            progress.finish()
            Console.out("ok: \(report.count) events verified, recorded \(report.firstRecordedAt) – \(report.lastRecordedAt), head \(report.head)")
        }
    }
}
