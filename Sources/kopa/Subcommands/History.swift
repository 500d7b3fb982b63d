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

        /// The event's type, marked when it was retracted or corrected.
        static func type(of entry: HistoryEntry) -> String {
            entry.record.type + (entry.retracted ? " (retracted)" : entry.corrected ? " (corrected)" : "")
        }

        func run(ledger: Ledger) throws {
            let entries = try ledger.history(of: stream, time: try timeOptions.time())
            if global.format == .table {
                // One block per event, like `git log`: an audit trail is read, not scanned in columns.
                for entry in entries {
                    let r = entry.record
                    Console.out("seq \(r.seq)  \(Self.type(of: entry))  occurred \(r.occurredAt)  recorded \(r.recordedAt) by \(r.recordedBy)")
                    for change in entry.changes { Console.out("    \(change)") }
                    if let source = r.meta["source"]?.stringValue { Console.out("    source: \(source)") }
                    Console.out("")
                }
                if entries.isEmpty { Console.out("(no events)") }
                return
            }
            // Machine formats keep every value exact: the whole recorded_at (it can be given back to
            // --known-at) and the bare type, with the event's standing in a column of its own.
            let rows: [[Cell]] = entries.map { entry in
                let r = entry.record
                let status = entry.retracted ? "retracted" : entry.corrected ? "corrected" : ""
                return [.integer(r.seq), .text(r.occurredAt), .text(r.recordedAt), .text(r.recordedBy), .text(r.type), .text(status),
                        .text(entry.changes.joined(separator: "; ")), .text(r.meta["source"]?.stringValue ?? "")]
            }
            TableFormatter(columns: ["seq", "occurred_at", "recorded_at", "recorded_by", "type", "status", "changes", "source"], rows: rows).print(global.format)
        }
    }
}
