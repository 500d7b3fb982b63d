import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa history STREAM`: an entity's audit trail.
    struct History: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "Every event of one entity in recorded order: what changed, when it happened, when and by whom it was recorded, source.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var timeOptions: TimeOptions

        @Argument(help: "The stream, e.g. project/cities4csr.")
        var stream: String

        func run(ledger: Ledger) throws {
            let entries = try ledger.history(of: stream, time: try timeOptions.time())
            if global.format == .table {
                // One block per event, like `git log`: an audit trail is read, not scanned in columns.
                for entry in entries {
                    let r = entry.record
                    var type = r.type
                    if entry.retracted { type += " (retracted)" } else if entry.corrected { type += " (corrected)" }
                    Console.out("seq \(r.seq)  \(type)  occurred \(r.occurredAt)  recorded \(r.recordedAt) by \(r.recordedBy)")
                    for change in entry.changes { Console.out("    \(change)") }
                    if let source = r.meta["source"]?.stringValue { Console.out("    source: \(source)") }
                    Console.out("")
                }
                if entries.isEmpty { Console.out("(no events)") }
                return
            }
            let rows: [[Cell]] = entries.map { entry in
                let r = entry.record
                var type = r.type
                if entry.retracted { type += " (retracted)" } else if entry.corrected { type += " (corrected)" }
                return [.integer(r.seq), .text(r.occurredAt), .text(String(r.recordedAt.prefix(19))), .text(r.recordedBy), .text(type),
                        .text(entry.changes.joined(separator: "; ")), .text(r.meta["source"]?.stringValue ?? "")]
            }
            TableFormatter(columns: ["seq", "occurred_at", "recorded_at", "recorded_by", "type", "changes", "source"], rows: rows).print(global.format)
        }
    }
}
