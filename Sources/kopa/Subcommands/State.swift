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
                let facts: [JSONValue] = state.facts.map { fact in
                    .object(["seq": .integer(fact.seq), "type": .string(fact.type), "occurred_at": .string(fact.occurredAt), "data": .object(fact.data)])
                }
                Console.out(CanonicalJSON.string(.object([
                    "stream": .string(state.stream), "opened_by": .string(state.openedBy),
                    "fields": .object(state.fields), "facts": .array(facts), "withdrawn": .bool(state.withdrawn),
                ])))
                return
            }
            // One table: the entity's own fields (from the events of the type that opened it), then
            // each other event's fields, marked by that event.
            func text(_ value: JSONValue) -> Cell { value.stringValue.map(Cell.text) ?? .text(CanonicalJSON.string(value)) }
            let occurred = Dictionary(state.events.map { ($0.seq, $0.occurredAt) }, uniquingKeysWith: { first, _ in first })
            var rows: [[Cell]] = state.fields.keys.sorted().map { key in
                let seq = state.fieldSeqs[key]
                return [.text(state.openedBy), seq.map(Cell.integer) ?? .null, seq.flatMap { occurred[$0] }.map(Cell.text) ?? .null, .text(key), text(state.fields[key]!)]
            }
            for fact in state.facts {
                for key in fact.data.keys.sorted() {
                    rows.append([.text(fact.type), .integer(fact.seq), .text(fact.occurredAt), .text(key), text(fact.data[key]!)])
                }
            }
            TableFormatter(columns: ["event", "seq", "occurred_at", "field", "value"], rows: rows).print(global.format)
            if global.format == .table {
                Console.out("")
                if state.withdrawn {
                    Console.out(TerminalText.oneLine("\(state.stream): withdrawn, every '\(state.openedBy)' event of it was retracted (`kopa history \(state.stream)` shows them)"))
                }
                Console.out("\(state.stream): \(counted(state.events.count, "event")) in force, last \(state.events.last.map { "seq \($0.seq) \($0.type) (\($0.occurredAt))" } ?? "none")")
            }
        }
    }
}
