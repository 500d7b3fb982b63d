import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa init`: creates a ledger and records the catalog in it.
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a ledger (refuses to overwrite) and register the event catalog in it.")

        @OptionGroup var global: GlobalOptions

        @Option(help: "A name for the ledger, e.g. the municipality.")
        var name: String = "Kopa ledger"

        func run() throws {
            try reportingErrors {
                let ledger = try Ledger.create(at: global.ledgerPath, name: name, actor: global.actorID)
                let head = try ledger.head()
                Console.out("created ledger '\(ledger.path)' with \(ledger.catalog.types.count) event types (\(head.seq) events, head \(head.hash))")
            }
        }
    }
}
