import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa log`: reads the log.
    struct Log: LedgerCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the log (every event unless filtered); --format ndjson prints exactly the export records.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var filter: LogFilter

        func run(ledger: Ledger) throws {
            // A mistyped type would match nothing and print "(no rows)", as if there were none.
            for type in filter.type where ledger.catalog.types[type] == nil {
                do { _ = try ledger.catalog.resolve(type) } catch { throw LedgerError(.usage, "--type: \(error.message)") }
            }
            if let stream = filter.stream, let note = try ledger.unknownStreamNote(stream) { Console.note(note) }
            let eventFilter = try filter.eventFilter()
            if global.format == .ndjson {
                try ledger.scan(eventFilter) { record in
                    Console.out(record.exportLine)
                    return true
                }
                return
            }
            try printRecords(try ledger.events(eventFilter), format: global.format)
        }
    }
}
