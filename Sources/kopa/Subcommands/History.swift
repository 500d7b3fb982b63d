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
                // Every recorded text is made one line (a line break in a source must not print
                // something that looks like another entry), then folded to the terminal's 100
                // columns, its continuation indented under the block.
                func line(_ text: String) {
                    for folded in TerminalText.wrapped(text, indent: "        ") { Console.out(folded) }
                }
                for entry in entries {
                    let r = entry.record
                    let header = ["seq \(r.seq)", Self.type(of: entry), "occurred \(r.occurredAt)", "recorded \(r.recordedAt) by \(r.recordedBy)"]
                    for folded in TerminalText.packed(header, indent: "        ") { Console.out(folded) }
                    for change in entry.changes { line("    \(change)") }
                    if let source = r.meta["source"]?.stringValue { line("    source: \(source)") }
                    if case .array(let items)? = r.meta["evidence"] {
                        for item in items {
                            let extra = [item["location"]?.stringValue, item["sha256"]?.stringValue.map { "sha256 " + $0 }].compactMap { $0 }
                            line("    evidence: \(item["title"]?.stringValue ?? "?")" + (extra.isEmpty ? "" : " (" + extra.joined(separator: ", ") + ")"))
                        }
                    }
                    Console.out("")
                }
                if entries.isEmpty { Console.out("(no events)") }
                return
            }
            // Machine formats keep every value exact: the whole recorded_at (it can be given back to
            // --known-at), the bare type with the event's standing in a column of its own, and what
            // it said as JSON (the payload, or a correction's changes; canonical JSON text in CSV and
            // Markdown), not shortened.
            let rows: [[Cell]] = entries.map { entry in
                let r = entry.record
                let status = entry.retracted ? "retracted" : entry.corrected ? "corrected" : ""
                return [
                    .integer(r.seq), .text(r.occurredAt), .text(r.recordedAt), .text(r.recordedBy), .text(r.type), .text(status),
                    entry.target.map(Cell.integer) ?? .null, .json(entry.said),
                    r.meta["reason"]?.stringValue.map(Cell.text) ?? .null, r.meta["source"]?.stringValue.map(Cell.text) ?? .null,
                    r.meta["evidence"].map(Cell.json) ?? .null,
                ]
            }
            let columns = ["seq", "occurred_at", "recorded_at", "recorded_by", "type", "status", "target", "changes", "reason", "source", "evidence"]
            TableFormatter(columns: columns, rows: rows).print(global.format)
        }
    }
}
