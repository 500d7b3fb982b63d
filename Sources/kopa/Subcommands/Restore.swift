import ArgumentParser
import Foundation
import Ledger

extension Kopa {
    /// `kopa restore FILE --ledger NEW`: rebuilds a ledger from an archive.
    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild a new ledger from an archive, with every record and hash identical; refuses to overwrite.",
            discussion: """
                The archive is verified while it is read; a damaged archive leaves nothing behind. \
                The new ledger is given with --ledger (it must not exist).
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The archive made by `kopa export`.")
        var archive: String

        @OptionGroup var expected: ExpectedEndOptions

        func run() throws {
            try reportingErrors {
                let clock = ContinuousClock.now
                let progress = Progress(label: "restore", total: expected.count)
                let summary = try Ledger.restore(
                    from: archive, to: global.ledgerPath, expectHead: expected.head, expectCount: expected.count
                ) { progress.update($0) }
                progress.finish()
                let fields: [(column: String, value: Cell)] = [
                    ("archive", .text(archive)), ("restored", .integer(summary.chain.count)), ("ledger", .text(global.ledgerPath)), ("head", .text(summary.chain.head)),
                ]
                printSummary(fields, format: global.format) {
                    let seconds = (ContinuousClock.now - clock).seconds
                    return "restored \(counted(summary.chain.count, "event")) from '\(archive)' into '\(global.ledgerPath)'"
                        + String(format: " in %.2f s; head %@", seconds, summary.chain.head)
                }
            }
        }
    }
}
