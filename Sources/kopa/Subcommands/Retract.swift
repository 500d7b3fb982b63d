import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa retract ID --reason TEXT`: withdraws an event.
    struct Retract: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "Retract (withdraw) an event; --reason is required.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The event's id or seq.")
        var event: String

        @Option(help: "Why the event is withdrawn.")
        var reason: String?

        @Option(help: "Where the reason comes from.")
        var source: String?

        func run(ledger: Ledger) throws {
            let draft = try ledger.retractionDraft(of: event, reason: reason, source: source)
            let summary = try ledger.append([draft], actor: global.actorID)
            if let record = summary.last { try printRecords([record], format: global.format, title: "retracted \(event)") }
        }
    }
}
