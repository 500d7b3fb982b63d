import ArgumentParser
import Ledger

extension Kopa {
    /// `kopa state STREAM`: an entity's current fields.
    struct State: LedgerCommand {
        static let configuration = CommandConfiguration(abstract: "The current fields of one entity (e.g. project/cities4csr), folded from its events.")

        @OptionGroup var global: GlobalOptions
        @OptionGroup var timeOptions: TimeOptions

        @Argument(help: "The stream, e.g. project/cities4csr.")
        var stream: String

        func run(ledger: Ledger) throws {
            let state = try ledger.state(of: stream, time: try timeOptions.time())
            if global.format == .json || global.format == .ndjson {
                Console.out(CanonicalJSON.string(.object(state.fields)))
                return
            }
            let rows: [[Cell]] = state.fields.keys.sorted().map { key in
                let value = state.fields[key]!
                return [.text(key), value.stringValue.map(Cell.text) ?? .text(CanonicalJSON.string(value))]
            }
            TableFormatter(columns: ["field", "value"], rows: rows).print(global.format)
            if global.format == .table {
                Console.out("")
                Console.out("\(state.stream): \(state.events.count) events, last \(state.events.last.map { "seq \($0.seq) \($0.type) (\($0.occurredAt))" } ?? "none")")
            }
        }
    }
}
