import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa show SEQ|ID`: one event in full.
    struct Show: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "Show one event by seq or id.")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The event's seq or id.")
        var event: String

        func run(ledger: Ledger) throws {
            let record = try ledger.event(event)
            // On stderr, whatever the format: the record printed stays the record as stored.
            let standing = try ledger.standing(of: record)
            defer { if let standing { Console.note(standing) } }
            if global.format != .table {
                try printRecords([record], format: global.format)
                return
            }
            // Folded to 100 columns under the value's column, exactly at the width so that the
            // pieces put together give the JSON back; `--format json` gives the record on one line.
            let fields = [
                ("seq", "\(record.seq)"), ("id", record.id), ("type", "\(record.type) v\(record.version)"),
                ("stream", "\(record.stream) (version \(record.streamVersion))"), ("occurred_at", record.occurredAt),
                ("recorded_at", "\(record.recordedAt) by \(record.recordedBy)"), ("data", record.dataJSON),
                ("meta", record.metaJSON), ("prev", record.prev), ("hash", record.hash),
            ]
            for (label, value) in fields {
                for (index, line) in TerminalText.wrapped(value, width: 85, indent: "", atSpaces: false).enumerated() {
                    Console.out((index == 0 ? label + String(repeating: " ", count: 15 - label.count) : String(repeating: " ", count: 15)) + line)
                }
            }
        }
    }
}
