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
            if global.format != .table {
                try printRecords([record], format: global.format)
                return
            }
            Console.out("seq            \(record.seq)")
            Console.out("id             \(record.id)")
            Console.out("type           \(record.type) v\(record.version)")
            Console.out("stream         \(record.stream) (version \(record.streamVersion))")
            Console.out("occurred_at    \(record.occurredAt)")
            Console.out("recorded_at    \(record.recordedAt) by \(record.recordedBy)")
            Console.out("data           \(record.dataJSON)")
            Console.out("meta           \(record.metaJSON)")
            Console.out("prev           \(record.prev)")
            Console.out("hash           \(record.hash)")
        }
    }
}
